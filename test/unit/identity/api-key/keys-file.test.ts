import { linkSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { hashApiKey } from '../../../../src/identity/api-key/api-key-format.js';
import { type KeyRecord, type KeysFile, readKeysFile, writeKeysFile } from '../../../../src/identity/api-key/keys-file.js';
import { parseTimestamp } from '../../../../src/identity/api-key/parse-timestamp.js';

// Records the file-system calls writeKeysFile makes (passing every call through), to show the order.
const fsCalls = vi.hoisted(() => [] as { call: string; path?: string; flags?: unknown; mode?: unknown }[]);
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    openSync: (path: string, flags: string, mode?: number) => {
      fsCalls.push({ call: 'open', path, flags, mode });
      return fs.openSync(path, flags, mode);
    },
    writeSync: (...args: Parameters<typeof fs.writeSync>) => {
      fsCalls.push({ call: 'write' });
      return (fs.writeSync as (...a: unknown[]) => number)(...args);
    },
    fsyncSync: (fd: number) => {
      fsCalls.push({ call: 'fsync' });
      fs.fsyncSync(fd);
    },
    closeSync: (fd: number) => {
      fsCalls.push({ call: 'close' });
      fs.closeSync(fd);
    },
    renameSync: (from: string, to: string) => {
      fsCalls.push({ call: 'rename', path: `${from} -> ${to}` });
      fs.renameSync(from, to);
    },
  };
});

const dir = mkdtempSync(join(tmpdir(), 'callguard-keys-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HASH_A = hashApiKey('a');
const HASH_B = hashApiKey('b');
const record = (extra: Record<string, unknown> = {}) => ({
  id: 'key_a',
  owner: 'team-ci',
  createdAt: '2026-03-01T00:00:00Z',
  expiresAt: '2026-03-31T00:00:00Z',
  groups: ['ci'],
  hash: HASH_A,
  ...extra,
});
const fileOf = (...keys: unknown[]) => JSON.stringify({ version: 1, keys });
let n = 0;
const written = (text: string): string => {
  const file = join(dir, `keys-${++n}.json`);
  writeFileSync(file, text);
  return file;
};

type Bad = { name: string; text: string; max?: number; problems: { path: string; message: string | RegExp }[] };

const NOT_RFC3339 = (value: string) => `"${value}" is not an RFC 3339 timestamp with a time zone`;

const bad: Bad[] = [
  { name: 'not JSON', text: '{"version": 1, "keys": [', problems: [{ path: '', message: /^not JSON: / }] },
  { name: 'empty file', text: '', problems: [{ path: '', message: /^not JSON: / }] },
  { name: 'unknown top-level key', text: JSON.stringify({ version: 1, keys: [], owner: 'x' }), problems: [{ path: '', message: 'unknown key "owner"' }] },
  { name: 'unknown key in a record (a key pasted in)', text: fileOf(record({ key: 'cgk_x' })), problems: [{ path: '/keys/0', message: 'unknown key "key"' }] },
  {
    name: 'missing expiresAt',
    text: fileOf(record({ expiresAt: undefined })),
    problems: [{ path: '/keys/0', message: "must have required property 'expiresAt'" }],
  },
  { name: 'wrong version', text: JSON.stringify({ version: 2, keys: [] }), problems: [{ path: '/version', message: 'must be equal to constant' }] },
  {
    name: 'hash without the sha256: prefix',
    text: fileOf(record({ hash: HASH_A.slice(7) })),
    problems: [{ path: '/keys/0/hash', message: /^must match pattern/ }],
  },
  { name: 'id not key_…', text: fileOf(record({ id: 'alice' })), problems: [{ path: '/keys/0/id', message: /^must match pattern/ }] },
  { name: 'empty owner', text: fileOf(record({ owner: '' })), problems: [{ path: '/keys/0/owner', message: 'must NOT have fewer than 1 characters' }] },
  { name: 'duplicate id', text: fileOf(record(), record({ hash: HASH_B })), problems: [{ path: '/keys/1/id', message: 'duplicate key id "key_a"' }] },
  { name: 'duplicate hash', text: fileOf(record(), record({ id: 'key_b' })), problems: [{ path: '/keys/1/hash', message: 'the same key hash appears twice' }] },
  {
    name: 'timestamp without a time zone',
    text: fileOf(record({ createdAt: '2026-03-01T00:00:00' })),
    problems: [{ path: '/keys/0/createdAt', message: NOT_RFC3339('2026-03-01T00:00:00') }],
  },
  { name: 'date only', text: fileOf(record({ expiresAt: '2026-03-31' })), problems: [{ path: '/keys/0/expiresAt', message: NOT_RFC3339('2026-03-31') }] },
  {
    name: 'space instead of T',
    text: fileOf(record({ expiresAt: '2026-03-31 00:00:00Z' })),
    problems: [{ path: '/keys/0/expiresAt', message: NOT_RFC3339('2026-03-31 00:00:00Z') }],
  },
  {
    name: 'a Date.toString()',
    text: fileOf(record({ revokedAt: 'Tue Mar 03 2026 10:00:00 GMT+0000' })),
    problems: [{ path: '/keys/0/revokedAt', message: NOT_RFC3339('Tue Mar 03 2026 10:00:00 GMT+0000') }],
  },
  {
    name: 'month 13',
    text: fileOf(record({ expiresAt: '2026-13-01T00:00:00Z' })),
    problems: [{ path: '/keys/0/expiresAt', message: NOT_RFC3339('2026-13-01T00:00:00Z') }],
  },
  {
    name: 'February 30 (§5.7; Date.parse would roll it to March 2)',
    text: fileOf(record({ expiresAt: '2026-02-30T00:00:00Z', createdAt: '2026-02-01T00:00:00Z' })),
    problems: [{ path: '/keys/0/expiresAt', message: NOT_RFC3339('2026-02-30T00:00:00Z') }],
  },
  {
    name: 'April 31',
    text: fileOf(record({ expiresAt: '2026-04-31T00:00:00Z' })),
    problems: [{ path: '/keys/0/expiresAt', message: NOT_RFC3339('2026-04-31T00:00:00Z') }],
  },
  {
    name: 'hour 24',
    text: fileOf(record({ expiresAt: '2026-03-30T24:00:00Z' })),
    problems: [{ path: '/keys/0/expiresAt', message: NOT_RFC3339('2026-03-30T24:00:00Z') }],
  },
  {
    name: 'expiry before creation',
    text: fileOf(record({ expiresAt: '2026-02-28T00:00:00Z' })),
    problems: [{ path: '/keys/0/expiresAt', message: 'must be after createdAt' }],
  },
  {
    name: 'expiry equal to creation',
    text: fileOf(record({ expiresAt: '2026-03-01T00:00:00Z' })),
    problems: [{ path: '/keys/0/expiresAt', message: 'must be after createdAt' }],
  },
  {
    name: 'lifetime over maxLifetimeDays',
    text: fileOf(record({ expiresAt: '2026-05-30T00:00:00.001Z' })), // 90 days and 1 ms
    problems: [{ path: '/keys/0/expiresAt', message: 'the key would live longer than identity.apiKeys.maxLifetimeDays (90 days)' }],
  },
  {
    name: 'lifetime over a smaller max',
    max: 7,
    text: fileOf(record({ expiresAt: '2026-03-09T00:00:00Z' })),
    problems: [{ path: '/keys/0/expiresAt', message: 'the key would live longer than identity.apiKeys.maxLifetimeDays (7 days)' }],
  },
  {
    name: 'every problem at once, in every record',
    text: fileOf(
      record({ createdAt: 'yesterday' }),
      record({ expiresAt: '2027-01-01T00:00:00Z' }),
      record({ id: 'key_c', hash: HASH_B, revokedAt: '2026-03-02' }),
    ),
    problems: [
      { path: '/keys/0/createdAt', message: NOT_RFC3339('yesterday') },
      { path: '/keys/1/id', message: 'duplicate key id "key_a"' },
      { path: '/keys/1/hash', message: 'the same key hash appears twice' },
      { path: '/keys/1/expiresAt', message: 'the key would live longer than identity.apiKeys.maxLifetimeDays (90 days)' },
      { path: '/keys/2/revokedAt', message: NOT_RFC3339('2026-03-02') },
    ],
  },
];

describe('readKeysFile: a file with any problem is not used, every problem is listed with file and JSON pointer', () => {
  it.each(bad)('$name', ({ text, max, problems }) => {
    const file = written(text);
    const read = readKeysFile(file, max ?? 90);
    expect(read.ok).toBe(false);
    if (read.ok) return;
    expect(read.problems).toEqual(
      problems.map(({ path, message }) => ({ file, path, message: typeof message === 'string' ? message : expect.stringMatching(message) })),
    );
  });

  it('names a file it cannot read', () => {
    const file = join(dir, 'missing.json');
    expect(readKeysFile(file, 90)).toEqual({ ok: false, problems: [{ file, path: '', message: 'cannot read: ENOENT' }] });
  });
});

describe('readKeysFile: valid files', () => {
  it.each([
    { name: 'no keys', keys: [] },
    {
      name: 'every optional field',
      keys: [record({ revokedAt: '2026-03-02T10:00:00.123Z', functions: ['orders.create'], rotatedTo: 'key_b', note: 'CI runner' })],
    },
    { name: 'lifetime exactly maxLifetimeDays', keys: [record({ expiresAt: '2026-05-30T00:00:00Z' })] },
    { name: 'offsets and fractions', keys: [record({ createdAt: '2026-03-01T02:00:00+02:00', expiresAt: '2026-03-31T00:00:00.5-05:30' })] },
    { name: 'February 29 of a leap year', keys: [record({ createdAt: '2028-02-01T00:00:00Z', expiresAt: '2028-02-29T23:59:59Z' })] },
    { name: 'two keys of one owner', keys: [record(), record({ id: 'key_b', hash: HASH_B })] },
  ])('$name', ({ keys }) => {
    const read = readKeysFile(written(fileOf(...keys)), 90);
    expect(read.ok ? read.keys : read.problems).toEqual({ version: 1, keys });
  });
});

describe('parseTimestamp', () => {
  it.each([
    { name: 'UTC', value: '2026-03-01T00:00:00Z', ms: Date.UTC(2026, 2, 1) },
    { name: 'offset', value: '2026-03-01T02:00:00+02:00', ms: Date.UTC(2026, 2, 1) },
    { name: 'milliseconds', value: '2026-03-01T00:00:00.250Z', ms: Date.UTC(2026, 2, 1, 0, 0, 0, 250) },
    { name: 'last day of a month', value: '2026-04-30T23:59:59Z', ms: Date.UTC(2026, 3, 30, 23, 59, 59) },
    { name: 'no zone', value: '2026-03-01T00:00:00', ms: undefined },
    { name: 'a non-existent day', value: '2025-02-29T00:00:00Z', ms: undefined },
    { name: 'minute 60', value: '2026-03-01T00:60:00Z', ms: undefined },
    { name: 'epoch milliseconds', value: '1772323200000', ms: undefined },
  ])('$name', ({ value, ms }) => {
    expect(parseTimestamp(value)).toBe(ms);
  });
});

describe('writeKeysFile', () => {
  const keys: KeysFile = { version: 1, keys: [record() as KeyRecord] };
  beforeEach(() => {
    fsCalls.length = 0;
  });

  it('writes a temporary file beside the target, fsyncs it, then renames it over the target', () => {
    const file = join(dir, 'atomic.json');
    writeKeysFile(file, keys);
    expect(fsCalls.map((c) => c.call)).toEqual(['open', 'write', 'fsync', 'close', 'rename']);
    const [open, , , , rename] = fsCalls;
    expect(open?.path).toMatch(new RegExp(`^${file.replace(/[.]/g, '\\.')}\\.[0-9a-f]{12}\\.tmp$`));
    expect(open?.flags).toBe('wx'); // never follows or reuses an existing file
    expect(open?.mode).toBe(0o600);
    expect(rename?.path).toBe(`${open?.path} -> ${file}`);
  });

  it('replaces the file (a new inode) instead of writing into it: a reader holding the old file sees it whole', () => {
    const file = join(dir, 'replace.json');
    writeKeysFile(file, keys);
    const before = statSync(file);
    linkSync(file, `${file}.reader`);
    writeKeysFile(file, { version: 1, keys: [] });
    expect(statSync(file).ino).not.toBe(before.ino);
    expect(JSON.parse(readFileSync(`${file}.reader`, 'utf8'))).toEqual(keys);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ version: 1, keys: [] });
  });

  it('a new file is 0600; a replaced one keeps its mode (the server may read it as another user); no temporary file left', () => {
    const sub = mkdtempSync(join(dir, 'mode-'));
    const fresh = join(sub, 'fresh.json');
    writeKeysFile(fresh, keys);
    expect(statSync(fresh).mode & 0o777).toBe(0o600);
    rmSync(fresh);
    const file = join(sub, 'keys.json');
    writeFileSync(file, '{}', { mode: 0o640 });
    writeKeysFile(file, keys);
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(readdirSync(sub)).toEqual(['keys.json']);
    const read = readKeysFile(file, 90);
    expect(read.ok ? read.keys : read.problems).toEqual(keys);
    expect(readFileSync(file, 'utf8').endsWith('}\n')).toBe(true);
  });
});
