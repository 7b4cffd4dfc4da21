import { calculateJwkThumbprint, EmbeddedJWK, type JWK } from 'jose';

/** A DPoP proof's public key, imported, with its RFC 7638 thumbprint (compared with the token's `cnf.jkt`). */
export interface ProofKey {
  readonly key: CryptoKey;
  readonly jkt: string;
}

/** Imported proof keys by the exact `alg` and `jwk` a proof carries, bounded. */
export interface ProofKeyCache {
  /** The key for this header; throws (jose's error) when the `jwk` is not a usable public key for `alg`. */
  get(alg: string, jwk: JWK): Promise<ProofKey>;
}

/**
 * A client signs every proof with the same key, so importing its `jwk` and hashing its thumbprint on every
 * request (about 250 µs of a 540 µs proof check, measured) is work done once per key. Entries are keyed by
 * `alg` and the `jwk` exactly as sent (member order included): only a byte-identical header reuses an import,
 * and the import itself is jose's `EmbeddedJWK` (a public key, `use`/`alg` members consistent), so a hit
 * decides exactly what a miss would. Oldest entries go first beyond `maxEntries`; failures are not cached.
 */
export function createProofKeyCache(maxEntries = 4096): ProofKeyCache {
  const entries = new Map<string, Promise<ProofKey>>();
  return {
    get(alg, jwk) {
      const id = `${alg}\n${JSON.stringify(jwk)}`;
      const cached = entries.get(id);
      if (cached !== undefined) return cached;
      const loading = importProofKey(alg, jwk);
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
      entries.set(id, loading);
      loading.catch(() => {
        if (entries.get(id) === loading) entries.delete(id);
      });
      return loading;
    },
  };
}

async function importProofKey(alg: string, jwk: JWK): Promise<ProofKey> {
  const key = await EmbeddedJWK({ alg, jwk });
  return { key, jkt: await calculateJwkThumbprint(jwk, 'sha256') };
}
