import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeyAuthenticator } from '../../src/identity/api-key/api-key-authenticator.js';
import { hashApiKey, isWellFormedApiKey } from '../../src/identity/api-key/api-key-format.js';
import { createKey, revokeKeys } from '../../src/identity/api-key/key-operations.js';
import { type KeyRecord, type KeysFile, readKeysFile, writeKeysFile } from '../../src/identity/api-key/keys-file.js';

const CLI = join(import.meta.dirname, '../../src/cli/main.ts');
const NODE_ARGS = ['--import', 'tsx', CLI];
const dir = mkdtempSync(join(tmpdir(), 'callguard-cli-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DAY = 86_400_000;
const HOUR = 3_600_000;
const KEY_LINE = /^cgk_[0-9A-Za-z]{49}\n$/;

/** `callguard keys …` as a child process. */
function keys(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...NODE_ARGS, 'keys', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return once(child, 'exit').then(([code]) => ({ code: code as number | null, stdout, stderr }));
}

let n = 0;
const freshFile = (): string => join(mkdtempSync(join(dir, `case-${++n}-`)), 'keys.json');
const records = (file: string): KeyRecord[] => {
  const read = readKeysFile(file, 3650);
  if (!read.ok) throw new Error(JSON.stringify(read.problems));
  return [...read.keys.keys];
};
const listJson = async (file: string): Promise<Record<string, unknown>[]> => {
  const result = await keys(['list', '--json', '--keys', file]);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Record<string, unknown>[];
};

/** Revokes a key in-process (setup only: the CLI's revoke is tested below). */
function revokeAt(file: string, id: string): void {
  const read = readKeysFile(file, 90);
  if (!read.ok) throw new Error(JSON.stringify(read.problems));
  writeKeysFile(file, revokeKeys(read.keys, { ids: [id] }, Date.now()).file);
}

/** A file with keys of alice (1), bob (2) and carol (1), made in-process; returns their keys by name. */
function team(file: string): Record<string, { id: string; key: string }> {
  let keysFile: KeysFile = { version: 1, keys: [] };
  const made: Record<string, { id: string; key: string }> = {};
  for (const [name, owner] of [
    ['alice', 'alice'],
    ['bob1', 'bob'],
    ['bob2', 'bob'],
    ['carol', 'carol'],
  ] as const) {
    const created = createKey(
      keysFile,
      { owner, expiresAtMs: Date.now() + 30 * DAY, groups: ['ci'], ...(name === 'carol' ? { functions: ['deploy.run'], note: 'CI' } : {}) },
      Date.now(),
      90,
    );
    keysFile = created.file;
    made[name] = { id: created.record.id, key: created.key };
  }
  writeKeysFile(file, keysFile);
  return made;
}

describe('callguard keys create', () => {
  it('prints exactly one line, the key, on stdout; stores only its hash, in a 0600 file', async () => {
    const file = freshFile();
    const result = await keys([
      'create',
      '--keys',
      file,
      '--owner',
      'alice',
      '--expires',
      '30d',
      '--groups',
      'ci, deploy,ci',
      '--functions',
      'deploy.run',
      '--note',
      'laptop',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(KEY_LINE);
    const key = result.stdout.trim();
    expect(isWellFormedApiKey(key)).toBe(true);
    const [record] = records(file);
    expect(record).toMatchObject({ owner: 'alice', groups: ['ci', 'deploy'], functions: ['deploy.run'], note: 'laptop', hash: hashApiKey(key) });
    expect(Date.parse(record?.expiresAt ?? '') - Date.parse(record?.createdAt ?? '')).toBe(30 * DAY);
    expect(result.stderr).toMatch(new RegExp(`^created ${record?.id} for alice, expires ${record?.expiresAt}; the key is shown once:\n$`));
    expect(readFileSync(file, 'utf8')).not.toContain(key);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('adds to an existing file, with an absolute expiry', async () => {
    const file = freshFile();
    team(file);
    const expires = new Date(Date.now() + 10 * DAY).toISOString().replace(/\.\d+Z$/, 'Z');
    const result = await keys(['create', '--keys', file, '--owner', 'dave', '--expires', expires]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(KEY_LINE);
    expect(records(file).map((k) => k.owner)).toEqual(['alice', 'bob', 'bob', 'carol', 'dave']);
    expect(records(file).at(-1)?.expiresAt).toBe(expires.replace('Z', '.000Z'));
  });

  it.each([
    { name: 'over the default 90 days', args: ['--expires', '91d'], stderr: /the key would live longer than 90 days \(identity\.apiKeys\.maxLifetimeDays\)/ },
    { name: 'an expiry in the past', args: ['--expires', '2020-01-01T00:00:00Z'], stderr: /the expiry must be in the future/ },
    {
      name: 'a day that does not exist (usage error)',
      args: ['--expires', '2027-02-30T00:00:00Z'],
      stderr: /--expires "2027-02-30T00:00:00Z" is neither a duration \(30d\) nor an RFC 3339 timestamp/,
      code: 2,
    },
  ])('refuses $name and writes nothing', async ({ args, stderr, code }) => {
    const file = freshFile();
    const result = await keys(['create', '--keys', file, '--owner', 'alice', ...args]);
    expect(result.code).toBe(code ?? 1);
    expect(result.stderr).toMatch(stderr);
    expect(result.stdout).toBe('');
    expect(existsSync(file)).toBe(false);
  });
});

describe('callguard keys list', () => {
  it('shows id, owner and status of every key, never a key or a hash', async () => {
    const file = freshFile();
    const made = team(file);
    revokeAt(file, made.bob1?.id as string);
    const table = await keys(['list', '--keys', file]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+OWNER\s+STATUS\s+EXPIRES\s+GROUPS\s+FUNCTIONS$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 3))).toEqual([
      [made.alice?.id, 'alice', 'active'],
      [made.bob1?.id, 'bob', 'revoked'],
      [made.bob2?.id, 'bob', 'active'],
      [made.carol?.id, 'carol', 'active'],
    ]);
    expect(lines[4]).toMatch(/\sci\s+deploy\.run$/);
    const json = await listJson(file);
    expect(json.map((k) => [k.id, k.owner, k.status])).toEqual(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 3)));
    for (const output of [table.stdout, JSON.stringify(json)]) {
      expect(output).not.toMatch(/sha256:|cgk_/);
      for (const { key } of Object.values(made)) expect(output).not.toContain(hashApiKey(key).slice(7));
    }
    expect(json.every((k) => !('hash' in k))).toBe(true);
  });
});

describe('callguard keys revoke', () => {
  it('--owner bob revokes every key of bob and only those (offboarding)', async () => {
    const file = freshFile();
    const made = team(file);
    const result = await keys(['revoke', '--owner', 'bob', '--keys', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`revoked 2 key(s): ${made.bob1?.id}, ${made.bob2?.id}\n`);
    expect((await listJson(file)).map((k) => [k.owner, k.status])).toEqual([
      ['alice', 'active'],
      ['bob', 'revoked'],
      ['bob', 'revoked'],
      ['carol', 'active'],
    ]);
  });

  it('an unknown id → exit 1, nothing revoked', async () => {
    const file = freshFile();
    const made = team(file);
    const before = readFileSync(file, 'utf8');
    const result = await keys(['revoke', made.alice?.id as string, 'key_nope', '--keys', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no key with id key_nope/);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('an owner with no key → exit 1 (a mistyped name must not look like a finished offboarding)', async () => {
    const file = freshFile();
    team(file);
    const before = readFileSync(file, 'utf8');
    const result = await keys(['revoke', '--owner', 'b0b', '--keys', file]);
    expect([result.code, result.stderr]).toEqual([1, 'callguard keys: no key of owner "b0b"\n']);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('waits for another keys command holding the lock, then applies its change on top (no lost update)', async () => {
    const file = freshFile();
    const made = team(file);
    writeFileSync(`${file}.lock`, '');
    let finished = false;
    const revoking = keys(['revoke', made.alice?.id as string, '--keys', file]).finally(() => {
      finished = true;
    });
    // Long enough for the command to start and reach the lock (it would be done by now without one).
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(finished).toBe(false);
    expect(records(file).find((k) => k.owner === 'alice')?.revokedAt).toBeUndefined();
    // The other command's change lands while this one waits; then it lets go of the lock.
    revokeAt(file, made.carol?.id as string);
    rmSync(`${file}.lock`);
    const result = await revoking;
    expect(result.code).toBe(0);
    expect((await listJson(file)).map((k) => [k.owner, k.status])).toEqual([
      ['alice', 'revoked'],
      ['bob', 'active'],
      ['bob', 'active'],
      ['carol', 'revoked'],
    ]);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });
});

describe('callguard keys rotate', () => {
  it('prints a new key with the same owner and grants; the old one stays active until the grace period ends', async () => {
    const file = freshFile();
    const made = team(file);
    const oldId = made.carol?.id as string;
    const result = await keys(['rotate', oldId, '--grace', '2h', '--keys', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(KEY_LINE);
    const newKey = result.stdout.trim();
    const all = records(file);
    const old = all.find((k) => k.id === oldId) as KeyRecord;
    const fresh = all.find((k) => k.hash === hashApiKey(newKey)) as KeyRecord;
    expect(fresh).toMatchObject({ owner: 'carol', groups: ['ci'], functions: ['deploy.run'], note: 'CI' });
    expect(old.rotatedTo).toBe(fresh.id);
    expect(result.stderr).toContain(`rotated ${oldId} → ${fresh.id}; ${oldId} keeps working until ${old.expiresAt}`);
    const cutOff = Date.parse(old.expiresAt);
    expect(cutOff - Date.parse(fresh.createdAt)).toBe(2 * HOUR);
    // The new key lives as long as the old one was meant to.
    expect(Date.parse(fresh.expiresAt) - Date.parse(fresh.createdAt)).toBe(30 * DAY);
    expect((await listJson(file)).map((k) => [k.id, k.status])).toContainEqual([oldId, 'active']);

    // What a running callguard makes of the file, at and around the cut-off.
    let t = Date.parse(fresh.createdAt);
    const auth = createApiKeyAuthenticator({ name: 'apiKeys', file, maxLifetimeDays: 90, warnBeforeDays: 0, reloadIntervalMs: 3_600_000 }, { now: () => t });
    try {
      const codeOf = (key: string) => {
        const r = auth.authenticate(key);
        return r instanceof Promise ? 'async' : r.ok ? 'ok' : r.code;
      };
      expect([codeOf(made.carol?.key as string), codeOf(newKey)]).toEqual(['ok', 'ok']);
      t = cutOff - 1;
      expect([codeOf(made.carol?.key as string), codeOf(newKey)]).toEqual(['ok', 'ok']);
      t = cutOff;
      expect([codeOf(made.carol?.key as string), codeOf(newKey)]).toEqual(['ERR_API_KEY_EXPIRED', 'ok']);
    } finally {
      auth.close();
    }
  });

  it.each([
    { name: 'a revoked key', revokeFirst: true, stderr: /is revoked; create a new one instead/ },
    { name: 'an unknown id', id: 'key_nope', stderr: /no key with id key_nope/ },
  ])('refuses $name (exit 1)', async ({ revokeFirst, id, stderr }) => {
    const file = freshFile();
    const made = team(file);
    if (revokeFirst) revokeAt(file, made.alice?.id as string);
    const result = await keys(['rotate', id ?? (made.alice?.id as string), '--keys', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(stderr);
    expect(result.stdout).toBe('');
  });
});

// Independent child processes: run side by side (each costs a Node start-up with tsx).
describe.concurrent('usage errors exit 2', () => {
  const file = join(dir, 'usage.json');
  beforeAll(() => writeKeysFile(file, { version: 1, keys: [] }));
  it.each([
    { name: 'no command', args: [], stderr: /missing command/ },
    { name: 'unknown command (file missing)', args: ['lsit', '--keys', join(dir, 'none.json')], stderr: /unknown command "lsit"/ },
    { name: 'neither --keys nor --config', args: ['list'], stderr: /give exactly one of --config FILE or --keys FILE/ },
    { name: 'unknown option', args: ['list', '--keys', file, '--all'], stderr: /Unknown option '--all'/ },
    { name: 'create without --owner', args: ['create', '--keys', file, '--expires', '1d'], stderr: /create needs --owner/ },
    { name: 'create without --expires', args: ['create', '--keys', file, '--owner', 'alice'], stderr: /--expires is required/ },
    { name: 'revoke without ids or --owner', args: ['revoke', '--keys', file], stderr: /revoke needs key ids or --owner/ },
    { name: 'rotate without an id', args: ['rotate', '--keys', file], stderr: /rotate needs exactly one key id/ },
    { name: 'rotate with a bad --grace', args: ['rotate', 'key_a', '--grace', '1.5h', '--keys', file], stderr: /--grace "1.5h" is not like 24h/ },
  ])('$name', async ({ args, stderr }) => {
    const result = await keys(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(stderr);
    expect(result.stdout).toBe('');
  });

  it('--help prints the usage on stdout and exits 0', async () => {
    const result = await keys(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^usage: callguard keys <command>/);
  });
});

describe('--config: the keys file and its limits come from identity.apiKeys', () => {
  const config = (apiKeys: string) => `
identity:
${apiKeys}
functions:
  - name: deploy.run
    allow: [{ issuer: apiKeys, groups: [ci] }]
`;

  it('reads identity.apiKeys.file (relative to the config) and refuses a lifetime over its maxLifetimeDays', async () => {
    const base = mkdtempSync(join(dir, 'config-'));
    writeFileSync(join(base, 'callguard.yaml'), config('  apiKeys: { file: secrets/keys.json, maxLifetimeDays: 30 }'));
    const keysFile = join(base, 'secrets', 'keys.json');
    const over = await keys(['create', '--config', join(base, 'callguard.yaml'), '--owner', 'alice', '--expires', '31d']);
    expect(over.code).toBe(1);
    expect(over.stderr).toMatch(/the key would live longer than 30 days \(identity\.apiKeys\.maxLifetimeDays\)/);
    expect(over.stdout).toBe('');
    expect(existsSync(keysFile)).toBe(false);

    mkdirSync(join(base, 'secrets'));
    const ok = await keys(['create', '--config', join(base, 'callguard.yaml'), '--owner', 'alice', '--expires', '30d']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(KEY_LINE);
    expect(records(keysFile).map((k) => k.hash)).toEqual([hashApiKey(ok.stdout.trim())]);
  });

  it('a config without identity.apiKeys is a usage error', async () => {
    const base = mkdtempSync(join(dir, 'config-'));
    writeFileSync(
      join(base, 'callguard.yaml'),
      config('  spiffe: { trustDomains: [example.org] }').replace('issuer: apiKeys, groups: [ci]', 'spiffeIds: [spiffe://example.org/ci]'),
    );
    const result = await keys(['list', '--config', join(base, 'callguard.yaml')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/callguard\.yaml: identity\.apiKeys is not configured/);
  });
});
