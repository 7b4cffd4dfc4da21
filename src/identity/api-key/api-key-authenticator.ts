import { statSync } from 'node:fs';
import type { ApiKeysConfig } from '../../config/types.js';
import { ConfigError } from '../../errors.js';
import { fail, type Failure } from '../../failure.js';
import type { ApiKeyPrincipal } from '../../principal.js';
import type { Authenticator, AuthResult } from '../authenticator.js';
import { hashApiKey, isWellFormedApiKey } from './api-key-format.js';
import { type KeyRecord, parseTimestamp, readKeysFile } from './keys-file.js';

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
const EXPIRED = fail('ERR_API_KEY_EXPIRED', 'the API key has expired');

/**
 * API keys from a keys file (`callguard keys`): `Authorization: ApiKey <key>` or the configured
 * header. A key is checked for format and checksum before any lookup, then looked up by its hash
 * (the file holds no key material), then for revocation and expiry. The file is polled and
 * reloaded on change without a restart; a file that does not load keeps the last good one serving,
 * with a warning line. Throws ConfigError when the file does not load at start.
 *
 * The lookup is a hash-table get keyed by SHA-256 of the presented value: its timing can depend
 * only on that hash, which tells an attacker nothing about any stored key (SHA-256 preimages), so
 * no constant-time comparison is needed there.
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
      emit('warn', `keys file not reloaded, the last good one keeps serving: ${next.problems.map((p) => `${p.path || '/'}: ${p.message}`).join('; ')}`);
      return false;
    }
    byHash = next.byHash;
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
        emit('warn', `API key ${key.principal.keyId} of ${key.principal.owner} expires at ${new Date(key.expiresAtMs).toISOString()}: rotate it (callguard keys rotate ${key.principal.keyId})`);
      }
    }
  }

  return {
    kind: 'apiKey',
    scheme: 'apikey',
    headers: settings.header === undefined ? [] : [settings.header],
    authenticate(credential): AuthResult {
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
  const attributes = Object.freeze({ id: record.id, owner: record.owner, groups: Object.freeze([...record.groups]) });
  const principal: ApiKeyPrincipal = Object.freeze({
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
  return revokedAtMs === undefined ? { principal, expiresAtMs } : { principal, expiresAtMs, revokedAtMs };
}
