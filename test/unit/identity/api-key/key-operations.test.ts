import { describe, expect, it } from 'vitest';
import { hashApiKey, isWellFormedApiKey } from '../../../../src/identity/api-key/api-key-format.js';
import { createKey, keyStatus, parseDuration, revokeKeys, rotateKey } from '../../../../src/identity/api-key/key-operations.js';
import { checkKeysFile, type KeysFile } from '../../../../src/identity/api-key/keys-file.js';

const NOW = Date.parse('2026-03-01T00:00:00Z');
const DAY = 86_400_000;
const HOUR = 3_600_000;
const EMPTY: KeysFile = { version: 1, keys: [] };

/** A file with keys made by createKey at NOW: alice (2), bob (2), carol (1, functions + note). */
function team() {
  let file = EMPTY;
  const made: Record<string, { id: string; key: string }> = {};
  for (const [name, owner, extra] of [
    ['alice1', 'alice', {}],
    ['alice2', 'alice', {}],
    ['bob1', 'bob', {}],
    ['bob2', 'bob', { groups: ['ops'] }],
    ['carol', 'carol', { groups: ['ci', 'deploy'], functions: ['deploy.run'], note: 'CI runner' }],
  ] as const) {
    const created = createKey(file, { owner, expiresAtMs: NOW + 30 * DAY, groups: ['ci'], ...extra }, NOW, 90);
    file = created.file;
    made[name] = { id: created.record.id, key: created.key };
  }
  const id = (name: string): string => made[name]?.id as string;
  return { file, id, key: (name: string): string => made[name]?.key as string };
}

describe('createKey', () => {
  it('adds a record holding the hash, never the key, that the keys file accepts', () => {
    const { file, record, key } = createKey(
      EMPTY,
      { owner: 'alice', expiresAtMs: NOW + 30 * DAY, groups: ['ci'], functions: ['orders.create'], note: 'laptop' },
      NOW,
      90,
    );
    expect(isWellFormedApiKey(key)).toBe(true);
    expect(record).toEqual({
      id: expect.stringMatching(/^key_[0-9A-Za-z]{12}$/),
      owner: 'alice',
      createdAt: '2026-03-01T00:00:00.000Z',
      expiresAt: '2026-03-31T00:00:00.000Z',
      groups: ['ci'],
      functions: ['orders.create'],
      note: 'laptop',
      hash: hashApiKey(key),
    });
    expect(file.keys).toEqual([record]);
    expect(JSON.stringify(file)).not.toContain(key);
    expect(checkKeysFile(JSON.parse(JSON.stringify(file)), 'keys.json', 90).ok).toBe(true);
  });

  it('leaves the old file untouched and keeps the other keys', () => {
    const { file: before } = createKey(EMPTY, { owner: 'alice', expiresAtMs: NOW + DAY, groups: [] }, NOW, 90);
    const snapshot = structuredClone(before);
    const { file: after } = createKey(before, { owner: 'bob', expiresAtMs: NOW + DAY, groups: [] }, NOW, 90);
    expect(before).toEqual(snapshot);
    expect(after.keys.map((k) => k.owner)).toEqual(['alice', 'bob']);
  });

  it.each([
    { name: 'expiry in the past', expiresAtMs: NOW - 1, message: 'the expiry must be in the future' },
    { name: 'expiry now', expiresAtMs: NOW, message: 'the expiry must be in the future' },
    {
      name: 'one ms over maxLifetimeDays',
      expiresAtMs: NOW + 90 * DAY + 1,
      message: 'the key would live longer than 90 days (identity.apiKeys.maxLifetimeDays)',
    },
    { name: 'a year', expiresAtMs: NOW + 365 * DAY, message: 'the key would live longer than 90 days (identity.apiKeys.maxLifetimeDays)' },
  ])('refuses $name', ({ expiresAtMs, message }) => {
    expect(() => createKey(EMPTY, { owner: 'alice', expiresAtMs, groups: [] }, NOW, 90)).toThrow(message);
  });

  it('accepts exactly maxLifetimeDays', () => {
    expect(createKey(EMPTY, { owner: 'alice', expiresAtMs: NOW + 90 * DAY, groups: [] }, NOW, 90).record.expiresAt).toBe('2026-05-30T00:00:00.000Z');
  });
});

describe('revokeKeys', () => {
  it('revokes the named ids from now, and only those', () => {
    const t = team();
    const { file, revoked } = revokeKeys(t.file, { ids: [t.id('alice1'), t.id('bob2')] }, NOW + HOUR);
    expect(revoked.map((k) => k.id)).toEqual([t.id('alice1'), t.id('bob2')]);
    for (const k of file.keys) {
      const named = k.id === t.id('alice1') || k.id === t.id('bob2');
      expect(k.revokedAt, k.owner).toBe(named ? '2026-03-01T01:00:00.000Z' : undefined);
      expect(keyStatus(k, NOW + HOUR)).toBe(named ? 'revoked' : 'active');
    }
  });

  it('offboarding: --owner revokes every key of that owner and no one else', () => {
    const t = team();
    const { file, revoked } = revokeKeys(t.file, { owner: 'bob' }, NOW + HOUR);
    expect(revoked.map((k) => k.id).sort()).toEqual([t.id('bob1'), t.id('bob2')].sort());
    expect(file.keys.map((k) => [k.owner, keyStatus(k, NOW + HOUR)])).toEqual([
      ['alice', 'active'],
      ['alice', 'active'],
      ['bob', 'revoked'],
      ['bob', 'revoked'],
      ['carol', 'active'],
    ]);
  });

  it('keeps the first revocation time of a key already revoked (and does not list it again)', () => {
    const t = team();
    const first = revokeKeys(t.file, { ids: [t.id('alice1')] }, NOW + HOUR).file;
    const { file, revoked } = revokeKeys(first, { owner: 'alice' }, NOW + 2 * HOUR);
    expect(revoked.map((k) => k.id)).toEqual([t.id('alice2')]);
    expect(file.keys.find((k) => k.id === t.id('alice1'))?.revokedAt).toBe('2026-03-01T01:00:00.000Z');
  });

  it('revokes an expired key too (it can never come back)', () => {
    const t = team();
    const { revoked } = revokeKeys(t.file, { ids: [t.id('carol')] }, NOW + 31 * DAY);
    expect(revoked.map((k) => keyStatus(k, NOW + 31 * DAY))).toEqual(['revoked']);
  });

  it.each([
    { name: 'one unknown id', ids: ['key_nope'], message: 'no key with id key_nope' },
    { name: 'a known and an unknown id (nothing is revoked)', ids: ['KNOWN', 'key_nope'], message: 'no key with id key_nope' },
  ])('refuses $name', ({ ids, message }) => {
    const t = team();
    expect(() => revokeKeys(t.file, { ids: ids.map((id) => (id === 'KNOWN' ? t.id('alice1') : id)) }, NOW)).toThrow(message);
  });

  it('revokes nothing for an owner with no keys', () => {
    const t = team();
    const { file, revoked } = revokeKeys(t.file, { owner: 'mallory' }, NOW);
    expect(revoked).toEqual([]);
    expect(file.keys).toEqual(t.file.keys);
  });
});

describe('rotateKey', () => {
  it('makes a new key with the same owner, groups, functions and note, and cuts the old one to now + grace', () => {
    const t = team();
    const at = NOW + DAY;
    const { file, record, key, old } = rotateKey(t.file, t.id('carol'), 24 * HOUR, at + 30 * DAY, at, 90);
    expect(isWellFormedApiKey(key)).toBe(true);
    expect(key).not.toBe(t.key('carol'));
    expect(record).toMatchObject({ owner: 'carol', groups: ['ci', 'deploy'], functions: ['deploy.run'], note: 'CI runner', hash: hashApiKey(key) });
    expect(record.id).not.toBe(t.id('carol'));
    expect(record.createdAt).toBe('2026-03-02T00:00:00.000Z');
    expect(record.expiresAt).toBe('2026-04-01T00:00:00.000Z');
    expect(old).toMatchObject({ id: t.id('carol'), expiresAt: '2026-03-03T00:00:00.000Z', rotatedTo: record.id, hash: hashApiKey(t.key('carol')) });
    expect(old.revokedAt).toBeUndefined();
    expect(file.keys.find((k) => k.id === t.id('carol'))).toEqual(old);
    expect(file.keys.at(-1)).toEqual(record);
    expect(file.keys).toHaveLength(6);
    expect(checkKeysFile(JSON.parse(JSON.stringify(file)), 'keys.json', 90).ok).toBe(true);
  });

  it('the old key stays active until the cut-off, then is expired', () => {
    const t = team();
    const { old } = rotateKey(t.file, t.id('alice1'), HOUR, NOW + 30 * DAY, NOW, 90);
    expect(keyStatus(old, NOW + HOUR - 1)).toBe('active');
    expect(keyStatus(old, NOW + HOUR)).toBe('expired');
  });

  it('never lengthens the old key: a grace past its expiry keeps its expiry', () => {
    const t = team();
    const { old } = rotateKey(t.file, t.id('alice1'), 60 * DAY, NOW + 30 * DAY, NOW, 90);
    expect(old.expiresAt).toBe('2026-03-31T00:00:00.000Z');
  });

  it('a zero grace ends the old key at once', () => {
    const t = team();
    const { old } = rotateKey(t.file, t.id('alice1'), 0, NOW + 30 * DAY, NOW, 90);
    expect(keyStatus(old, NOW + 1)).toBe('expired');
  });

  it.each([
    { name: 'an unknown id', prepare: (t: ReturnType<typeof team>) => ({ file: t.file, id: 'key_nope' }), at: NOW, message: 'no key with id key_nope' },
    {
      name: 'a revoked key',
      prepare: (t: ReturnType<typeof team>) => ({ file: revokeKeys(t.file, { ids: [t.id('bob1')] }, NOW).file, id: t.id('bob1') }),
      at: NOW + 1,
      message: 'is revoked; create a new one instead',
    },
    {
      name: 'an expired key',
      prepare: (t: ReturnType<typeof team>) => ({ file: t.file, id: t.id('bob1') }),
      at: NOW + 30 * DAY,
      message: 'is expired; create a new one instead',
    },
  ])('refuses $name', ({ prepare, at, message }) => {
    const { file, id } = prepare(team());
    expect(() => rotateKey(file, id, HOUR, at + DAY, at, 90)).toThrow(message);
  });

  it('refuses a new expiry over maxLifetimeDays', () => {
    const t = team();
    expect(() => rotateKey(t.file, t.id('alice1'), HOUR, NOW + 91 * DAY, NOW, 90)).toThrow('the key would live longer than 90 days');
  });
});

describe('keyStatus', () => {
  const base = { id: 'key_a', owner: 'a', createdAt: '2026-03-01T00:00:00Z', expiresAt: '2026-03-31T00:00:00Z', groups: [], hash: hashApiKey('a') };
  it.each([
    { name: 'active', extra: {}, at: NOW, status: 'active' },
    { name: 'expired at its expiry', extra: {}, at: Date.parse(base.expiresAt), status: 'expired' },
    { name: 'revoked', extra: { revokedAt: '2026-03-02T00:00:00Z' }, at: NOW + DAY, status: 'revoked' },
    { name: 'revocation beats expiry', extra: { revokedAt: '2026-03-02T00:00:00Z' }, at: NOW + 60 * DAY, status: 'revoked' },
    { name: 'a revocation scheduled for later', extra: { revokedAt: '2026-03-02T00:00:00Z' }, at: NOW, status: 'active' },
  ])('$name → $status', ({ extra, at, status }) => {
    expect(keyStatus({ ...base, ...extra }, at)).toBe(status);
  });
});

describe('parseDuration', () => {
  it.each([
    { name: 'seconds', value: '90s', ms: 90_000 },
    { name: 'minutes', value: '15m', ms: 900_000 },
    { name: 'hours', value: '24h', ms: 86_400_000 },
    { name: 'days', value: '30d', ms: 30 * 86_400_000 },
    { name: 'zero', value: '0m', ms: 0 },
    { name: 'six digits', value: '999999s', ms: 999_999_000 },
    { name: 'seven digits', value: '1000000s', ms: undefined },
    { name: 'no unit', value: '30', ms: undefined },
    { name: 'weeks', value: '2w', ms: undefined },
    { name: 'upper-case unit', value: '30D', ms: undefined },
    { name: 'fraction', value: '1.5h', ms: undefined },
    { name: 'negative', value: '-1d', ms: undefined },
    { name: 'space', value: '30 d', ms: undefined },
    { name: 'compound', value: '1h30m', ms: undefined },
    { name: 'a timestamp', value: '2027-03-01T00:00:00Z', ms: undefined },
    { name: 'empty', value: '', ms: undefined },
  ])('$name: "$value"', ({ value, ms }) => {
    expect(parseDuration(value)).toBe(ms);
  });
});
