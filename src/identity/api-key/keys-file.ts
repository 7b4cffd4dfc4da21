import { randomBytes } from 'node:crypto';
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ConfigProblem } from '../../errors.js';
import keysFileSchema from './keys-file.schema.json' with { type: 'json' };
import { parseTimestamp } from './parse-timestamp.js';

/** One key as the keys file holds it: metadata and a hash, never the key. */
export interface KeyRecord {
  readonly id: string;
  readonly owner: string;
  /** RFC 3339 timestamps. */
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly revokedAt?: string;
  readonly groups: readonly string[];
  readonly functions?: readonly string[];
  /** The id of the key that replaced this one (`keys rotate`). */
  readonly rotatedTo?: string;
  readonly note?: string;
  /** `sha256:` + base64url (see hashApiKey). */
  readonly hash: string;
}

export interface KeysFile {
  readonly version: 1;
  readonly keys: readonly KeyRecord[];
}

const validateShape = new Ajv2020({ allErrors: true, strict: true }).compile(keysFileSchema);

/**
 * Reads and checks a keys file: its shape (keys-file.schema.json), unique ids and hashes, valid
 * timestamps, and no lifetime over `maxLifetimeDays`. Every problem is listed, naming the file and
 * the key path; a file with any problem is not used at all (nothing is silently dropped).
 */
export function readKeysFile(file: string, maxLifetimeDays: number): { ok: true; keys: KeysFile } | { ok: false; problems: ConfigProblem[] } {
  let text: string;
  try {
    text = readRegularFile(file);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
    return { ok: false, problems: [{ file, path: '', message: `cannot read: ${why}` }] };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, problems: [{ file, path: '', message: `not JSON: ${(err as Error).message}` }] };
  }
  return checkKeysFile(raw, file, maxLifetimeDays);
}

/** Bigger than any real keys file (a record is ~300 bytes): a runaway file is refused, not read. */
const MAX_KEYS_FILE_BYTES = 16 * 1024 * 1024;

/**
 * Reads the file only when it is a regular file of sane size: a path swapped for a FIFO, a device or
 * a huge file must not hang or exhaust the server that polls it.
 */
function readRegularFile(file: string): string {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new Error('not a regular file');
    if (stat.size > MAX_KEYS_FILE_BYTES) throw new Error(`larger than ${MAX_KEYS_FILE_BYTES} bytes`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** The file's text, or undefined when it cannot be read as a keys file (see readRegularFile). */
export function readKeysText(file: string): string | undefined {
  try {
    return readRegularFile(file);
  } catch {
    return undefined;
  }
}

export function checkKeysFile(raw: unknown, file: string, maxLifetimeDays: number): { ok: true; keys: KeysFile } | { ok: false; problems: ConfigProblem[] } {
  if (!validateShape(raw)) {
    const problems = (validateShape.errors ?? []).map((e) => ({
      file,
      path: e.instancePath,
      message: e.keyword === 'additionalProperties' ? `unknown key "${String(e.params['additionalProperty'])}"` : (e.message ?? e.keyword),
    }));
    return { ok: false, problems };
  }
  const keys = raw as unknown as KeysFile;
  const problems: ConfigProblem[] = [];
  const ids = new Set<string>();
  const hashes = new Set<string>();
  keys.keys.forEach((record, i) => {
    const at = `/keys/${i}`;
    if (ids.has(record.id)) problems.push({ file, path: `${at}/id`, message: `duplicate key id "${record.id}"` });
    if (hashes.has(record.hash)) problems.push({ file, path: `${at}/hash`, message: 'the same key hash appears twice' });
    ids.add(record.id);
    hashes.add(record.hash);
    const times: Record<string, number> = {};
    for (const field of ['createdAt', 'expiresAt', 'revokedAt'] as const) {
      const value = record[field];
      if (value === undefined) continue;
      const ms = parseTimestamp(value);
      if (ms === undefined) problems.push({ file, path: `${at}/${field}`, message: `"${value}" is not an RFC 3339 timestamp with a time zone` });
      else times[field] = ms;
    }
    const { createdAt, expiresAt } = times;
    if (createdAt !== undefined && expiresAt !== undefined) {
      if (expiresAt <= createdAt) problems.push({ file, path: `${at}/expiresAt`, message: 'must be after createdAt' });
      else if (expiresAt - createdAt > maxLifetimeDays * 86_400_000) {
        problems.push({ file, path: `${at}/expiresAt`, message: `the key would live longer than identity.apiKeys.maxLifetimeDays (${maxLifetimeDays} days)` });
      }
    }
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, keys };
}

/**
 * The new file keeps the old one's mode and owner: `sudo callguard keys revoke` must not leave a file
 * the server (another user) can no longer read, which would stop every key.
 */
function keepOwnerAndMode(fd: number, file: string): void {
  let old: ReturnType<typeof statSync>;
  try {
    old = statSync(file);
  } catch {
    return; // a new file: 0600
  }
  fchmodSync(fd, old.mode & 0o777);
  try {
    fchownSync(fd, old.uid, old.gid);
  } catch (err) {
    // Only root may give a file away; anyone else writes a file they already own.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
  }
}

/**
 * Replaces the keys file atomically (write a temporary file beside it, fsync, rename): a reader,
 * such as callguard reloading it, sees the old file or the new one, never half of one.
 */
export function writeKeysFile(file: string, keys: KeysFile): void {
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(temp, 'wx', 0o600);
  try {
    try {
      keepOwnerAndMode(fd, file);
      writeSync(fd, `${JSON.stringify(keys, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}
