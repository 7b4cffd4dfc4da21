import { statSync } from 'node:fs';
import type { ApiKeysConfig } from '../../config/types.js';
import { ConfigError } from '../../errors.js';
import { type Failure, fail } from '../../failure.js';
import type { ApiKeyPrincipal } from '../../principal.js';
import type { Authenticator, AuthResult } from '../authenticator.js';
import { hashApiKey, isWellFormedApiKey } from './api-key-format.js';
import { type KeyRecord, readKeysFile, readKeysText } from './keys-file.js';
import { parseTimestamp } from './parse-timestamp.js';

export interface ApiKeyAuthenticatorDeps {
  /** Milliseconds since the epoch; defaults to `Date.now`. */
  readonly now?: () => number;
  readonly onEvent?: (event: { level: 'warn' | 'info'; msg: string; issuer: string }) => void;
  /** Keys remembered by their presented string (see `authenticate`); the identity's `tokenCacheSize`. */
  readonly recentCapacity?: number;
}

export interface ApiKeyAuthenticator extends Authenticator {
  readonly kind: 'apiKey';
  /** Reads the keys file now if it changed (the poll does this on its own); true when a new file was taken. */
  reload(): boolean;
}

/** One loaded key: its principal built once, and its times in milliseconds. */
interface LoadedKey {
  readonly principal: ApiKeyPrincipal;
  readonly expiresAtMs: number;
  readonly revokedAtMs?: number;
}

const HOUR_MS = 3_600_000;
const MALFORMED = fail('ERR_API_KEY_MALFORMED', 'an API key is `cgk_` followed by 49 letters and digits, with a valid checksum');
const UNKNOWN = fail('ERR_API_KEY_UNKNOWN', 'the API key is not known');
const REVOKED = fail('ERR_API_KEY_REVOKED', 'the API key has been revoked');
const UNAVAILABLE = fail('ERR_KEYS_UNAVAILABLE', 'API keys cannot be checked right now', 'the keys file cannot be read');
const EXPIRED = fail('ERR_API_KEY_EXPIRED', 'the API key has expired');

/**
 * API keys from a keys file (`callguard keys`): `Authorization: ApiKey <key>` or the configured
 * header. A key is checked for format and checksum before any lookup, then looked up by its hash
 * (the file holds no key material), then for revocation and expiry. The file is polled and
 * reloaded on change without a restart. A changed file that does not load adds nothing and can only
 * take keys away (see narrowKeys), with a warning line; one that cannot be read refuses every key.
 * Throws ConfigError when the file does not load at start.
 *
 * The lookup of a new key is a hash-table get keyed by SHA-256 of the presented value, whose timing
 * tells an attacker nothing about any stored key (SHA-256 preimages). A key already seen is found by
 * its own string in `recent`; only keys that were looked up and found enter it, so its timing says
 * nothing about keys the caller does not already hold.
 */
export function createApiKeyAuthenticator(settings: ApiKeysConfig, deps: ApiKeyAuthenticatorDeps = {}): ApiKeyAuthenticator {
  const now = deps.now ?? Date.now;
  const source = settings.name;
  const emit = (level: 'warn' | 'info', msg: string): void => {
    try {
      deps.onEvent?.({ level, msg, issuer: source });
    } catch {
      // the listener's problem
    }
  };
  // Stat, then read (as reload does): a file replaced in between is seen as changed by the next poll.
  let version = fileVersion();
  const first = load();
  if (!first.ok) throw new ConfigError(first.problems);
  let byHash = first.byHash;
  // The file became unreadable: every key is refused as unavailable (503), not as unknown.
  let unreadable = false;
  // Keys already seen, by the presented string: a repeat call skips the checksum and the hash (as a
  // cached JWT skips its signature). Emptied with every reload; only known keys enter it.
  const recent = new Map<string, LoadedKey>();
  const recentCapacity = deps.recentCapacity ?? 10_000;
  warnExpiring();

  const poll = setInterval(() => reload(), settings.reloadIntervalMs);
  const warnings = setInterval(warnExpiring, HOUR_MS);
  poll.unref();
  warnings.unref();

  function load(): { ok: true; byHash: Map<string, LoadedKey> } | { ok: false; problems: ConfigError['problems'] } {
    const read = readKeysFile(settings.file, settings.maxLifetimeDays);
    if (!read.ok) return read;
    const map = new Map<string, LoadedKey>();
    for (const record of read.keys.keys) map.set(record.hash, toLoadedKey(record, source));
    return { ok: true, byHash: map };
  }

  function fileVersion(): string {
    try {
      const stat = statSync(settings.file, { bigint: true });
      return `${stat.ino}:${stat.size}:${stat.mtimeNs}`;
    } catch (err) {
      return `error:${(err as NodeJS.ErrnoException).code ?? ''}`;
    }
  }

  function reload(): boolean {
    const seen = fileVersion();
    if (seen === version) return false;
    version = seen;
    const next = load();
    if (!next.ok) {
      // A file that does not load can still take keys away, never add them: a revocation written next
      // to a bad record (or by a tool that left the file unloadable) must not wait for someone to notice.
      const why = next.problems.map((p) => `${p.path || '/'}: ${p.message}`).join('; ');
      const narrowed = narrowKeys(byHash, settings.file, now());
      byHash = narrowed.keys;
      unreadable = !narrowed.readable;
      recent.clear();
      emit(
        'warn',
        narrowed.readable
          ? `keys file does not load (${why}): no key is added; keys it revokes, cuts short or no longer lists are refused (${byHash.size} keys left)`
          : `keys file cannot be read (${why}): every API key is refused until it loads`,
      );
      return false;
    }
    byHash = next.byHash;
    unreadable = false;
    recent.clear();
    emit('info', `keys file reloaded: ${byHash.size} keys`);
    warnExpiring();
    return true;
  }

  function warnExpiring(): void {
    const t = now();
    for (const key of byHash.values()) {
      if (key.revokedAtMs !== undefined && key.revokedAtMs <= t) continue;
      const left = key.expiresAtMs - t;
      if (left > 0 && left <= settings.warnBeforeDays * 86_400_000) {
        emit(
          'warn',
          `API key ${key.principal.keyId} of ${key.principal.owner} expires at ${new Date(key.expiresAtMs).toISOString()}: rotate it (callguard keys rotate ${key.principal.keyId})`,
        );
      }
    }
  }

  return {
    kind: 'apiKey',
    scheme: 'apikey',
    headers: settings.header === undefined ? [] : [settings.header],
    authenticate(credential): AuthResult {
      if (unreadable) return UNAVAILABLE;
      let key = recent.get(credential);
      if (key === undefined) {
        if (!isWellFormedApiKey(credential)) return MALFORMED;
        key = byHash.get(hashApiKey(credential));
        if (key === undefined) return UNKNOWN;
        if (recent.size >= recentCapacity) recent.clear();
        recent.set(credential, key);
      }
      return judge(key, now());
    },
    reload,
    close() {
      clearInterval(poll);
      clearInterval(warnings);
    },
  };
}

/**
 * The last good keys, cut down by whatever a file that did not load still says: a key whose hash is
 * no longer listed is dropped; a listed key takes the earlier expiry and revocation of the two (a
 * timestamp that does not parse counts as now). A file that cannot be read or parsed drops every key.
 */
function narrowKeys(current: ReadonlyMap<string, LoadedKey>, file: string, nowMs: number): { keys: Map<string, LoadedKey>; readable: boolean } {
  const listed = readLenient(file);
  const keys = new Map<string, LoadedKey>();
  if (listed === undefined) return { keys, readable: false };
  const at = (value: unknown): number | undefined => (value === undefined ? undefined : typeof value === 'string' ? (parseTimestamp(value) ?? nowMs) : nowMs);
  for (const [hash, key] of current) {
    const record = listed.get(hash);
    if (record === undefined) continue;
    const expiresAt = at(record['expiresAt']) ?? nowMs;
    const revokedAt = at(record['revokedAt']);
    const revokedAtMs = revokedAt === undefined ? key.revokedAtMs : Math.min(revokedAt, key.revokedAtMs ?? revokedAt);
    const next: LoadedKey = { principal: key.principal, expiresAtMs: Math.min(expiresAt, key.expiresAtMs) };
    keys.set(hash, revokedAtMs === undefined ? next : { ...next, revokedAtMs });
  }
  return { keys, readable: true };
}

/** The records of a keys file by hash, read with no other checks; undefined when it is not JSON with a `keys` array. */
function readLenient(file: string): Map<string, Record<string, unknown>> | undefined {
  const text = readKeysText(file);
  if (text === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const list = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)['keys'] : undefined;
  if (!Array.isArray(list)) return undefined;
  const byHash = new Map<string, Record<string, unknown>>();
  for (const item of list) {
    if (typeof item !== 'object' || item === null) continue;
    const record = item as Record<string, unknown>;
    if (typeof record['hash'] === 'string') byHash.set(record['hash'], record);
  }
  return byHash;
}

function judge(key: LoadedKey, t: number): AuthResult | Failure {
  if (key.revokedAtMs !== undefined && t >= key.revokedAtMs) return withKey(REVOKED, key);
  if (t >= key.expiresAtMs) return withKey(EXPIRED, key);
  return { ok: true, value: key.principal };
}

/** The log learns which key failed (its id and owner, never the key); the caller does not. */
function withKey(failure: Failure, key: LoadedKey): Failure {
  return { ...failure, internal: `key ${key.principal.keyId} of ${key.principal.owner}` };
}

function toLoadedKey(record: KeyRecord, source: string): LoadedKey {
  const expiresAtMs = parseTimestamp(record.expiresAt) as number;
  const revokedAtMs = record.revokedAt === undefined ? undefined : parseTimestamp(record.revokedAt);
  const principal = toApiKeyPrincipal(record, source, expiresAtMs);
  return revokedAtMs === undefined ? { principal, expiresAtMs } : { principal, expiresAtMs, revokedAtMs };
}

/** The principal a valid key of this record stands for (`callguard test` builds a case's key owner with it). */
export function toApiKeyPrincipal(record: Pick<KeyRecord, 'id' | 'owner' | 'groups' | 'functions'>, source: string, expiresAtMs: number): ApiKeyPrincipal {
  const attributes = Object.freeze({ id: record.id, owner: record.owner, groups: Object.freeze([...record.groups]) });
  return Object.freeze({
    kind: 'apiKey',
    source,
    issuer: source,
    subject: record.owner,
    owner: record.owner,
    keyId: record.id,
    groups: attributes.groups,
    attributes,
    expiresAt: Math.floor(expiresAtMs / 1000),
    ...(record.functions !== undefined ? { functions: Object.freeze([...record.functions]) } : {}),
  });
}
