/**
 * Verified principals keyed by the credential itself (a JWT, a SAML assertion): a bounded cache that
 * never serves one at or past its `expiresAt`. Keyed by the raw credential rather than a digest:
 * hashing every call cost more than anything else on the cached path, and the credential is in this
 * process's memory for the request anyway. Another valid encoding of a token's signature (a high-S
 * ECDSA `s`) is another key: it misses, is verified, and its principal has the same `tokenHash`.
 */
export interface CredentialCache<P extends { readonly expiresAt: number }> {
  get(key: string): P | undefined;
  set(key: string, identity: P): void;
  readonly size: number;
  /** Lookups that found a usable entry, and those that did not (capacity 0: every lookup), since creation. */
  readonly hits: number;
  readonly misses: number;
}

/** How long a verification is reused: a key removed from the issuer's JWKS stops working within this. */
export const CREDENTIAL_CACHE_MAX_AGE_MS = 5 * 60 * 1000;

/**
 * Creates a bounded cache of verified identities with second-chance (CLOCK) eviction: a hit only
 * marks its entry, so the hot path is one `Map.get` and no re-insertion (a strict LRU deleted and
 * re-inserted the entry on every hit); when full, the oldest unmarked entry goes and
 * marked ones get another round. `capacity` 0 disables caching. `now` is milliseconds since the
 * epoch. An entry is served until the token's `exp` or `maxAgeMs` after it was verified, whichever
 * comes first.
 */
export function createCredentialCache<P extends { readonly expiresAt: number }>(
  capacity: number,
  now: () => number,
  maxAgeMs = CREDENTIAL_CACHE_MAX_AGE_MS,
): CredentialCache<P> {
  const entries = new Map<string, { identity: P; until: number; used: boolean }>();
  let hits = 0;
  let misses = 0;
  const evictOne = (): void => {
    for (const [key, entry] of entries) {
      entries.delete(key);
      if (!entry.used || now() >= entry.until) return;
      entry.used = false;
      entries.set(key, entry); // second chance: to the back of the line
    }
  };
  return {
    get(key) {
      const entry = capacity === 0 ? undefined : entries.get(key);
      if (entry === undefined) {
        misses++;
        return undefined;
      }
      // RFC 7519 §4.1.4: not accepted on or after `exp`.
      if (now() >= entry.until) {
        entries.delete(key);
        misses++;
        return undefined;
      }
      entry.used = true;
      hits++;
      return entry.identity;
    },
    set(key, identity) {
      if (capacity === 0) return;
      entries.delete(key);
      if (entries.size >= capacity) evictOne();
      entries.set(key, { identity, until: Math.min(identity.expiresAt * 1000, now() + maxAgeMs), used: false });
    },
    get size() {
      return entries.size;
    },
    get hits() {
      return hits;
    },
    get misses() {
      return misses;
    },
  };
}
