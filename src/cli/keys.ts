import { closeSync, existsSync, openSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load-config.js';
import { createKey, keyStatus, parseDuration, revokeKeys, rotateKey } from '../identity/api-key/key-operations.js';
import { checkKeysFile, type KeyRecord, type KeysFile, readKeysFile, writeKeysFile } from '../identity/api-key/keys-file.js';
import { parseTimestamp } from '../identity/api-key/parse-timestamp.js';

const USAGE = `usage: callguard keys <command> (--config FILE | --keys FILE) [options]

  create --owner WHO --expires (30d | 2027-03-01T00:00:00Z) [--groups a,b] [--functions f,g] [--note TEXT]
                      add a key; prints the key once on stdout (only its hash is stored)
  list [--json]       id, owner, status, expiry and grants of every key
  revoke (ID... | --owner WHO)
                      refuse these keys from now on (--owner: every key that owner holds)
  rotate ID [--grace 24h] [--expires 30d]
                      a new key with the same owner and grants; the old one works for the grace period

--config: the keys file and its limits come from identity.apiKeys; --keys FILE: a file directly
(limits: 90 days). A running callguard picks up every change within identity.apiKeys.reloadIntervalMs.
`;

const DEFAULT_MAX_DAYS = 90;
const COMMANDS = ['create', 'list', 'revoke', 'rotate'];

/** `callguard keys …`: manages the API keys file. Exit 0 on success, 1 on a refused change, 2 on a usage error. */
export async function runKeys(args: string[], now: () => number = Date.now): Promise<number> {
  const [command, ...rest] = args;
  // Judged before any file is read: a usage error exits 2 whatever state the keys file is in.
  if (command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command === undefined || !COMMANDS.includes(command)) {
    process.stderr.write(`callguard keys: ${command === undefined ? 'missing command' : `unknown command "${command}"`}\n${USAGE}`);
    return 2;
  }
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(rest);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  let target: { file: string; maxLifetimeDays: number };
  try {
    target = keysTarget(values.config, values.keys);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  // A change is read-modify-write: two commands at once would lose one's change, so changes take a lock.
  let lock: (() => void) | undefined;
  if (command !== 'list') {
    try {
      lock = await lockKeysFile(target.file);
    } catch (err) {
      process.stderr.write(`callguard keys: ${err instanceof Error ? err.message : String(err)}\n`);
      return 1;
    }
  }
  try {
    return apply(command, values, positionals, target, now());
  } finally {
    lock?.();
  }
}

function apply(
  command: string,
  values: ReturnType<typeof parse>['values'],
  positionals: string[],
  target: { file: string; maxLifetimeDays: number },
  t: number,
): number {
  const current =
    existsSync(target.file) || command !== 'create'
      ? readKeysFile(target.file, target.maxLifetimeDays)
      : { ok: true as const, keys: { version: 1 as const, keys: [] } };
  if (!current.ok) {
    for (const p of current.problems) process.stderr.write(`${p.file}: ${p.path || '/'}: ${p.message}\n`);
    return 1;
  }
  try {
    switch (command) {
      case 'create': {
        if (values.owner === undefined || values.owner === '') throw new UsageError('create needs --owner');
        const expiresAtMs = expiry(values.expires, t);
        const created = createKey(
          current.keys,
          {
            owner: values.owner,
            expiresAtMs,
            groups: list(values.groups),
            ...(values.functions ? { functions: list(values.functions) } : {}),
            ...(values.note ? { note: values.note } : {}),
          },
          t,
          target.maxLifetimeDays,
        );
        save(target, created.file);
        process.stderr.write(`created ${created.record.id} for ${created.record.owner}, expires ${created.record.expiresAt}; the key is shown once:\n`);
        process.stdout.write(`${created.key}\n`);
        return 0;
      }
      case 'list': {
        if (values.json)
          process.stdout.write(
            `${JSON.stringify(
              current.keys.keys.map((k) => listed(k, t)),
              null,
              2,
            )}\n`,
          );
        else process.stdout.write(table(current.keys.keys, t));
        return 0;
      }
      case 'revoke': {
        if (positionals.length === 0 && values.owner === undefined) throw new UsageError('revoke needs key ids or --owner');
        // A mistyped owner must not look like a finished offboarding.
        if (values.owner !== undefined && !current.keys.keys.some((k) => k.owner === values.owner)) throw new Error(`no key of owner "${values.owner}"`);
        const { file, revoked } = revokeKeys(current.keys, { ids: positionals, ...(values.owner !== undefined ? { owner: values.owner } : {}) }, t);
        if (revoked.length > 0) save(target, file);
        process.stdout.write(`revoked ${revoked.length} key(s)${revoked.length > 0 ? `: ${revoked.map((k) => k.id).join(', ')}` : ''}\n`);
        return 0;
      }
      case 'rotate': {
        const id = positionals[0];
        if (id === undefined || positionals.length > 1) throw new UsageError('rotate needs exactly one key id');
        const graceMs = parseDuration(values.grace ?? '24h');
        if (graceMs === undefined) throw new UsageError(`--grace "${values.grace}" is not like 24h, 30m or 7d`);
        const old = current.keys.keys.find((k) => k.id === id);
        const lifetime = old === undefined ? 0 : (parseTimestamp(old.expiresAt) ?? 0) - (parseTimestamp(old.createdAt) ?? 0);
        const expiresAtMs = values.expires !== undefined ? expiry(values.expires, t) : t + Math.min(lifetime, target.maxLifetimeDays * 86_400_000);
        const rotated = rotateKey(current.keys, id, graceMs, expiresAtMs, t, target.maxLifetimeDays);
        save(target, rotated.file);
        process.stderr.write(`rotated ${id} → ${rotated.record.id}; ${id} keeps working until ${rotated.old.expiresAt}; the new key is shown once:\n`);
        process.stdout.write(`${rotated.key}\n`);
        return 0;
      }
      default:
        throw new UsageError(command === undefined ? 'missing command' : `unknown command "${command}"`);
    }
  } catch (err) {
    process.stderr.write(`callguard keys: ${err instanceof Error ? err.message : String(err)}\n`);
    if (err instanceof UsageError) process.stderr.write(USAGE);
    return err instanceof UsageError ? 2 : 1;
  }
}

class UsageError extends Error {}

/**
 * Takes `FILE.lock` (created exclusively), waiting up to 5 s for another `keys` command to finish;
 * returns its release. A lock left by a crashed command is named in the error, for an operator to remove.
 */
async function lockKeysFile(file: string): Promise<() => void> {
  const lockFile = `${file}.lock`;
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      closeSync(openSync(lockFile, 'wx', 0o600));
      return () => rmSync(lockFile, { force: true });
    } catch (err) {
      // No directory yet: there is no file to protect, and the change itself reports the missing directory.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return () => {};
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (Date.now() > deadline) throw new Error(`${lockFile} exists: another keys command is running (remove the file if none is)`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      keys: { type: 'string' },
      owner: { type: 'string' },
      expires: { type: 'string' },
      groups: { type: 'string' },
      functions: { type: 'string' },
      note: { type: 'string' },
      grace: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
}

function keysTarget(config: string | undefined, keys: string | undefined): { file: string; maxLifetimeDays: number } {
  if ((config === undefined) === (keys === undefined)) throw new Error('give exactly one of --config FILE or --keys FILE');
  if (keys !== undefined) return { file: keys, maxLifetimeDays: DEFAULT_MAX_DAYS };
  const settings = loadConfig(config as string).identity.apiKeys;
  if (settings === undefined) throw new Error(`${config}: identity.apiKeys is not configured`);
  return { file: settings.file, maxLifetimeDays: settings.maxLifetimeDays };
}

/** Never writes a file callguard would refuse to load. */
function save(target: { file: string; maxLifetimeDays: number }, file: KeysFile): void {
  const checked = checkKeysFile(JSON.parse(JSON.stringify(file)), target.file, target.maxLifetimeDays);
  if (!checked.ok) throw new Error(checked.problems.map((p) => `${p.path}: ${p.message}`).join('; '));
  writeKeysFile(target.file, file);
}

function expiry(value: string | undefined, nowMs: number): number {
  if (value === undefined) throw new UsageError('--expires is required (e.g. 30d, or 2027-03-01T00:00:00Z)');
  const duration = parseDuration(value);
  if (duration !== undefined) return nowMs + duration;
  const at = parseTimestamp(value);
  if (at === undefined) throw new UsageError(`--expires "${value}" is neither a duration (30d) nor an RFC 3339 timestamp`);
  return at;
}

function list(value: string | undefined): string[] {
  return value === undefined
    ? []
    : [
        ...new Set(
          value
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== ''),
        ),
      ];
}

function listed(record: KeyRecord, nowMs: number) {
  const { hash: _hash, ...shown } = record;
  return { ...shown, status: keyStatus(record, nowMs) };
}

function table(keys: readonly KeyRecord[], nowMs: number): string {
  const rows = [['ID', 'OWNER', 'STATUS', 'EXPIRES', 'GROUPS', 'FUNCTIONS']];
  for (const k of keys) rows.push([k.id, k.owner, keyStatus(k, nowMs), k.expiresAt, k.groups.join(',') || '-', k.functions?.join(',') ?? '(any)']);
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return `${rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}
