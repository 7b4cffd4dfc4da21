import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiKeysConfig } from '../../../../src/config/types.js';
import { ConfigError } from '../../../../src/errors.js';
import { type ApiKeyAuthenticator, createApiKeyAuthenticator } from '../../../../src/identity/api-key/api-key-authenticator.js';
import { generateApiKey, hashApiKey } from '../../../../src/identity/api-key/api-key-format.js';
import { createKey, revokeKeys, rotateKey } from '../../../../src/identity/api-key/key-operations.js';
import { type KeysFile, writeKeysFile } from '../../../../src/identity/api-key/keys-file.js';
import type { AuthResult } from '../../../../src/identity/authenticator.js';
import { createEventRecorder, type EventRecorder } from '../../../helpers/jwt-events.js';

// Lets one test change the keys file right after callguard has read it (see "read, then stat" below).
const afterRead = vi.hoisted(() => ({ hook: undefined as (() => void) | undefined }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    readFileSync: (...args: Parameters<typeof fs.readFileSync>) => {
      const text = (fs.readFileSync as (...a: unknown[]) => unknown)(...args);
      const hook = afterRead.hook;
      afterRead.hook = undefined;
      hook?.();
      return text;
    },
  };
});

const NOW = Date.parse('2026-03-01T00:00:00Z');
const DAY = 86_400_000;
const HOUR = 3_600_000;
const root = mkdtempSync(join(tmpdir(), 'callguard-api-key-auth-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Keys {
  file: KeysFile;
  /** name → id and key */
  made: Record<string, { id: string; key: string }>;
}

/**
 * The keys of these tests, made at NOW - 10 days unless said: alice (active, ci), bob (active, functions),
 * carol (revoked yesterday), dave (expired yesterday), erin (revoked after it expired), frank (expires in 3 days).
 */
function makeKeys(): Keys {
  let file: KeysFile = { version: 1, keys: [] };
  const made: Keys['made'] = {};
  const add = (name: string, owner: string, createdAt: number, expiresAt: number, extra: { groups?: string[]; functions?: string[] } = {}) => {
    const created = createKey(
      file,
      { owner, expiresAtMs: expiresAt, groups: extra.groups ?? [], ...(extra.functions ? { functions: extra.functions } : {}) },
      createdAt,
      90,
    );
    file = created.file;
    made[name] = { id: created.record.id, key: created.key };
  };
  add('alice', 'alice', NOW - 10 * DAY, NOW + 30 * DAY, { groups: ['ci', 'deploy'] });
  add('bob', 'bob', NOW - 10 * DAY, NOW + 30 * DAY, { functions: ['orders.get'] });
  add('carol', 'carol', NOW - 10 * DAY, NOW + 30 * DAY);
  add('dave', 'dave', NOW - 40 * DAY, NOW - DAY);
  add('erin', 'erin', NOW - 40 * DAY, NOW - 2 * DAY);
  add('frank', 'frank', NOW - 10 * DAY, NOW + 3 * DAY);
  file = revokeKeys(file, { ids: [made['carol']?.id as string] }, NOW - DAY).file;
  file = revokeKeys(file, { ids: [made['erin']?.id as string] }, NOW - DAY).file;
  return { file, made };
}

let dir: string;
let keysFile: string;
let keys: Keys;
let t: number;
let events: EventRecorder;
let auth: ApiKeyAuthenticator | undefined;
const settings = (extra: Partial<ApiKeysConfig> = {}): ApiKeysConfig => ({
  name: 'apiKeys',
  file: keysFile,
  maxLifetimeDays: 90,
  warnBeforeDays: 7,
  // The poll never fires in these tests unless asked: each calls reload() itself.
  reloadIntervalMs: 3_600_000,
  ...extra,
});
const start = (extra: Partial<ApiKeysConfig> = {}): ApiKeyAuthenticator => {
  auth = createApiKeyAuthenticator(settings(extra), { now: () => t, onEvent: events.onEvent });
  return auth;
};
const id = (name: string): string => keys.made[name]?.id as string;
const key = (name: string): string => keys.made[name]?.key as string;
/** The result, synchronously (a key lookup never waits). */
const check = (a: ApiKeyAuthenticator, credential: string): AuthResult => {
  const result = a.authenticate(credential);
  if (result instanceof Promise) throw new TypeError('an API key lookup must be synchronous');
  return result;
};
const codeOf = (result: AuthResult): string => (result.ok ? 'ok' : result.code);

beforeEach(() => {
  dir = mkdtempSync(join(root, 'case-'));
  keysFile = join(dir, 'keys.json');
  keys = makeKeys();
  writeKeysFile(keysFile, keys.file);
  t = NOW;
  events = createEventRecorder();
});
afterEach(() => {
  auth?.close();
  auth = undefined;
  afterRead.hook = undefined;
});

describe('createApiKeyAuthenticator', () => {
  it('answers to `Authorization: ApiKey` and the configured header', () => {
    expect([start().kind, auth?.scheme, auth?.headers]).toEqual(['apiKey', 'apikey', []]);
    auth?.close();
    expect(start({ header: 'x-api-key' }).headers).toEqual(['x-api-key']);
  });

  it('allows an active key, with the principal built from its record', () => {
    const result = check(start(), key('alice'));
    expect(codeOf(result)).toBe('ok');
    expect(result.ok && result.value).toEqual({
      kind: 'apiKey',
      source: 'apiKeys',
      issuer: 'apiKeys',
      subject: 'alice',
      owner: 'alice',
      keyId: id('alice'),
      groups: ['ci', 'deploy'],
      attributes: { id: id('alice'), owner: 'alice', groups: ['ci', 'deploy'] },
      expiresAt: (NOW + 30 * DAY) / 1000,
    });
    expect(result.ok && Object.isFrozen(result.value)).toBe(true);
  });

  it('carries the functions a key is restricted to, and names the store as configured', () => {
    const result = check(start({ name: 'ciKeys' }), key('bob'));
    expect(codeOf(result)).toBe('ok');
    expect(result.ok && result.value).toMatchObject({ source: 'ciKeys', issuer: 'ciKeys', subject: 'bob', functions: ['orders.get'] });
  });

  it.each([
    {
      name: 'bad checksum',
      credential: () => key('alice').slice(0, -1) + (key('alice').endsWith('0') ? '1' : '0'),
      code: 'ERR_API_KEY_MALFORMED',
      internal: undefined,
    },
    { name: 'a bearer token', credential: () => 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln', code: 'ERR_API_KEY_MALFORMED', internal: undefined },
    { name: 'empty (`Authorization: ApiKey`)', credential: () => '', code: 'ERR_API_KEY_MALFORMED', internal: undefined },
    { name: 'the key with a space before it', credential: () => ` ${key('alice')}`, code: 'ERR_API_KEY_MALFORMED', internal: undefined },
    { name: 'a well-formed key not in the file', credential: () => generateApiKey().key, code: 'ERR_API_KEY_UNKNOWN', internal: undefined },
    { name: 'a revoked key', credential: () => key('carol'), code: 'ERR_API_KEY_REVOKED', internal: () => `key ${id('carol')} of carol` },
    { name: 'an expired key', credential: () => key('dave'), code: 'ERR_API_KEY_EXPIRED', internal: () => `key ${id('dave')} of dave` },
    { name: 'revoked beats expired', credential: () => key('erin'), code: 'ERR_API_KEY_REVOKED', internal: () => `key ${id('erin')} of erin` },
  ])('$name → $code', ({ credential, code, internal }) => {
    const presented = credential();
    const result = check(start(), presented);
    expect(codeOf(result)).toBe(code);
    if (result.ok) return;
    expect(result.detail).not.toBe('');
    expect(result.internal).toBe(internal?.());
    const text = JSON.stringify(result);
    for (const secret of [key('carol'), key('dave'), key('erin'), presented, hashApiKey(presented), hashApiKey(presented).slice(7)].filter(
      (s) => s.length > 8,
    )) {
      expect(text).not.toContain(secret);
    }
  });

  it('refuses a malformed value before any lookup, even when its hash is in the file', () => {
    const malformed = `cgk_${'A'.repeat(49)}`;
    const record = { ...keys.file.keys[0], id: 'key_planted', hash: hashApiKey(malformed) } as KeysFile['keys'][number];
    writeKeysFile(keysFile, { version: 1, keys: [...keys.file.keys, record] });
    expect(codeOf(check(start(), malformed))).toBe('ERR_API_KEY_MALFORMED');
  });

  it('judges expiry and revocation by the injected clock, to the millisecond', () => {
    const a = start();
    t = NOW + 30 * DAY - 1;
    expect(codeOf(check(a, key('alice')))).toBe('ok');
    t = NOW + 30 * DAY;
    expect(codeOf(check(a, key('alice')))).toBe('ERR_API_KEY_EXPIRED');
  });
});

describe('remembered keys (the `recent` fast path)', () => {
  it('answer exactly as a fresh lookup does, whatever the capacity, the clock or a reload', () => {
    const names = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
    const presented = [...names.map(key), generateApiKey().key, `cgk_${'A'.repeat(49)}`, ''];
    const remembering = createApiKeyAuthenticator(settings(), { now: () => t, recentCapacity: 2 });
    /** The plain version: a new authenticator, so nothing is remembered. */
    const lookedUpAfresh = (value: string): AuthResult => {
      const plain = createApiKeyAuthenticator(settings(), { now: () => t });
      try {
        return check(plain, value);
      } finally {
        plain.close();
      }
    };
    try {
      for (const at of [NOW, NOW + 3 * DAY, NOW + 30 * DAY]) {
        t = at;
        for (const round of [1, 2, 3]) {
          for (const value of presented) expect([round, check(remembering, value)]).toEqual([round, lookedUpAfresh(value)]);
        }
      }
      t = NOW;
      writeKeysFile(keysFile, revokeKeys(keys.file, { owner: 'alice' }, NOW).file);
      expect(remembering.reload()).toBe(true);
      expect(codeOf(check(remembering, key('alice')))).toBe('ERR_API_KEY_REVOKED');
    } finally {
      remembering.close();
    }
  });
});

describe('rotation grace period', () => {
  it('the old key works until the cut-off, then ERR_API_KEY_EXPIRED; the new one works throughout', () => {
    const a = start();
    t = NOW + HOUR;
    const rotated = rotateKey(keys.file, id('alice'), 2 * HOUR, t + 30 * DAY, t, 90);
    writeKeysFile(keysFile, rotated.file);
    expect(a.reload()).toBe(true);
    const cutOff = NOW + 3 * HOUR;
    for (const [at, old] of [
      [NOW + HOUR, 'ok'],
      [cutOff - 1, 'ok'],
      [cutOff, 'ERR_API_KEY_EXPIRED'],
      [NOW + DAY, 'ERR_API_KEY_EXPIRED'],
    ] as const) {
      t = at;
      expect([new Date(at).toISOString(), codeOf(check(a, key('alice')))]).toEqual([new Date(at).toISOString(), old]);
      expect(codeOf(check(a, rotated.key))).toBe('ok');
    }
    const fresh = check(a, rotated.key);
    expect(fresh.ok && fresh.value).toMatchObject({ subject: 'alice', groups: ['ci', 'deploy'], keyId: rotated.record.id });
  });
});

describe('reload', () => {
  it('takes a rewritten file: a key revoked in it is refused from then on', () => {
    const a = start();
    expect(codeOf(check(a, key('alice')))).toBe('ok');
    writeKeysFile(keysFile, revokeKeys(keys.file, { ids: [id('alice')] }, t).file);
    expect(a.reload()).toBe(true);
    expect(codeOf(check(a, key('alice')))).toBe('ERR_API_KEY_REVOKED');
    expect(codeOf(check(a, key('bob')))).toBe('ok');
    expect(events.events.filter((e) => e.level === 'info')).toEqual([{ level: 'info', msg: 'keys file reloaded: 6 keys', issuer: 'apiKeys' }]);
  });

  it('does nothing while the file is unchanged', () => {
    const a = start();
    expect(a.reload()).toBe(false);
    expect(events.events.filter((e) => e.level === 'info')).toEqual([]);
  });

  it('picks up a key added to the file', () => {
    const a = start();
    const added = createKey(keys.file, { owner: 'gina', expiresAtMs: t + DAY, groups: [] }, t, 90);
    expect(codeOf(check(a, added.key))).toBe('ERR_API_KEY_UNKNOWN');
    writeKeysFile(keysFile, added.file);
    expect(a.reload()).toBe(true);
    expect(codeOf(check(a, added.key))).toBe('ok');
  });

  it.each([
    { name: 'not JSON', write: (file: string) => writeFileSync(file, '{"version": 1, "keys": ['), problem: /\/: not JSON: / },
    { name: 'deleted', write: (file: string) => rmSync(file), problem: /\/: cannot read: ENOENT/ },
    {
      name: 'a FIFO',
      write: (file: string) => {
        rmSync(file);
        execFileSync('mkfifo', [file]);
      },
      problem: /\/: cannot read: not a regular file/,
    },
  ])('a file that cannot be read ($name) refuses every key as unavailable (503), once warned, until a good one loads', ({ write, problem }) => {
    const a = start();
    write(keysFile);
    expect(a.reload()).toBe(false);
    expect(codeOf(check(a, key('alice')))).toBe('ERR_KEYS_UNAVAILABLE');
    const warnings = events.events.filter((e) => e.msg.startsWith('keys file cannot be read'));
    expect(warnings).toEqual([{ level: 'warn', msg: expect.stringMatching(problem), issuer: 'apiKeys' }]);
    // Once: not again on every poll of the same broken file.
    expect(a.reload()).toBe(false);
    expect(events.events.filter((e) => e.msg.startsWith('keys file cannot be read'))).toHaveLength(1);
    rmSync(keysFile, { force: true });
    writeKeysFile(keysFile, revokeKeys(keys.file, { ids: [id('alice')] }, t).file);
    expect(a.reload()).toBe(true);
    expect(codeOf(check(a, key('alice')))).toBe('ERR_API_KEY_REVOKED');
    expect(codeOf(check(a, key('bob')))).toBe('ok');
  });

  it('a file that does not load adds no key but takes effect for every key it revokes, cuts short or drops', () => {
    const a = start();
    const added = createKey(keys.file, { owner: 'gina', expiresAtMs: t + DAY, groups: [] }, t, 90);
    const revoked = revokeKeys(added.file, { ids: [id('alice')] }, t).file;
    // A hand edit (or a tool) left one bad record: the whole file does not load.
    const records = revoked.keys
      .filter((k) => k.owner !== 'carol')
      .map((k) => (k.owner === 'frank' ? { ...k, expiresAt: new Date(t - 1000).toISOString() } : k.owner === 'gina' ? { ...k, expiresAt: 'soon' } : k));
    writeFileSync(keysFile, JSON.stringify({ version: 1, keys: records }));
    expect(a.reload()).toBe(false);
    expect(codeOf(check(a, key('alice')))).toBe('ERR_API_KEY_REVOKED'); // revoked in the bad file
    expect(codeOf(check(a, key('carol')))).toBe('ERR_API_KEY_UNKNOWN'); // no longer listed
    expect(codeOf(check(a, key('bob')))).toBe('ok'); // untouched: the last good record keeps serving
    expect(codeOf(check(a, key('frank')))).toBe('ERR_API_KEY_EXPIRED'); // cut short
    expect(codeOf(check(a, added.key))).toBe('ERR_API_KEY_UNKNOWN'); // never added by a bad file
    expect(events.events.filter((e) => e.level === 'warn' && e.msg.startsWith('keys file does not load'))).toEqual([
      { level: 'warn', msg: expect.stringMatching(/\/keys\/\d+\/expiresAt: "soon" is not an RFC 3339 timestamp.*no key is added/), issuer: 'apiKeys' },
    ]);
  });

  it('polls the file on its own every reloadIntervalMs', async () => {
    const reloaded = new Promise<string>((resolve) => {
      auth = createApiKeyAuthenticator(settings({ reloadIntervalMs: 50 }), {
        now: () => t,
        onEvent: (event) => {
          if (event.msg.startsWith('keys file reloaded')) resolve(event.msg);
        },
      });
    });
    writeKeysFile(keysFile, revokeKeys(keys.file, { owner: 'alice' }, t).file);
    expect(await reloaded).toBe('keys file reloaded: 6 keys');
    expect(codeOf(check(auth as ApiKeyAuthenticator, key('alice')))).toBe('ERR_API_KEY_REVOKED');
  });

  it('regression: a file replaced while it is first read is taken by the next reload (stat before read)', () => {
    const revoked = revokeKeys(keys.file, { ids: [id('alice')] }, t).file;
    // `callguard keys revoke` renames its file into place just after callguard started reading the old one.
    afterRead.hook = () => writeKeysFile(keysFile, revoked);
    const a = start();
    expect(afterRead.hook).toBeUndefined();
    expect(codeOf(check(a, key('alice')))).toBe('ok'); // read before the revocation
    expect(a.reload()).toBe(true);
    expect(codeOf(check(a, key('alice')))).toBe('ERR_API_KEY_REVOKED');
  });
});

describe('a keys file that does not load at start', () => {
  it('throws a ConfigError listing every problem with the file and key path', () => {
    const [first, second] = keys.file.keys;
    writeFileSync(
      keysFile,
      JSON.stringify({
        version: 1,
        keys: [
          { ...first, expiresAt: '2026-12-31T00:00:00Z' },
          { ...second, id: first?.id, createdAt: 'now' },
        ],
      }),
    );
    let error: unknown;
    try {
      start();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('ERR_CONFIG_INVALID');
    expect((error as ConfigError).problems).toEqual([
      { file: keysFile, path: '/keys/0/expiresAt', message: 'the key would live longer than identity.apiKeys.maxLifetimeDays (90 days)' },
      { file: keysFile, path: '/keys/1/id', message: `duplicate key id "${first?.id}"` },
      { file: keysFile, path: '/keys/1/createdAt', message: '"now" is not an RFC 3339 timestamp with a time zone' },
    ]);
    expect((error as Error).message).toMatch(/invalid configuration \(3 problems\)/);
  });

  it('throws a ConfigError naming a missing file', () => {
    rmSync(keysFile);
    expect(() => start()).toThrow(ConfigError);
    expect(() => start()).toThrow(`${keysFile}: /: cannot read: ENOENT`);
  });

  it('honours a smaller maxLifetimeDays', () => {
    expect(() => start({ maxLifetimeDays: 30 })).toThrow(/\/keys\/0\/expiresAt: the key would live longer than identity.apiKeys.maxLifetimeDays \(30 days\)/);
  });
});

describe('expiry warnings', () => {
  it('warns at start for each active key expiring within warnBeforeDays, naming it and its owner (never the key)', () => {
    start();
    const warnings = events.events.filter((e) => e.msg.startsWith('API key'));
    expect(warnings).toEqual([
      {
        level: 'warn',
        issuer: 'apiKeys',
        msg: `API key ${id('frank')} of frank expires at ${new Date(NOW + 3 * DAY).toISOString()}: rotate it (callguard keys rotate ${id('frank')})`,
      },
    ]);
    expect(JSON.stringify(events.events)).not.toContain(key('frank'));
  });

  it.each([
    { name: 'a wider window', warnBeforeDays: 31, owners: ['alice', 'bob', 'frank'] },
    { name: 'no window', warnBeforeDays: 0, owners: [] },
    { name: 'a narrower window', warnBeforeDays: 2, owners: [] },
  ])('$name (warnBeforeDays $warnBeforeDays): never for revoked or expired keys', ({ warnBeforeDays, owners }) => {
    start({ warnBeforeDays });
    const warned = events.events.filter((e) => e.msg.startsWith('API key')).map((e) => / of (\w+) expires/.exec(e.msg)?.[1]);
    expect(warned.sort()).toEqual(owners);
  });

  it('warns again after a reload, by the injected clock', () => {
    const a = start();
    events.events.length = 0;
    t = NOW + 25 * DAY;
    writeKeysFile(keysFile, revokeKeys(keys.file, { ids: [id('bob')] }, t).file);
    expect(a.reload()).toBe(true);
    const warned = events.events.filter((e) => e.msg.startsWith('API key')).map((e) => / of (\w+) expires/.exec(e.msg)?.[1]);
    expect(warned).toEqual(['alice']); // bob revoked, frank expired by then
  });
});
