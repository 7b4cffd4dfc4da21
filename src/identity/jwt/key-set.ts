import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, type CryptoKey, type FlattenedJWSInput, type JSONWebKeySet, type JWSHeaderParameters } from 'jose';
import type { ConfigProblem } from '../../errors.js';

/** The issuer's public keys: resolves the verification key for a token's protected header. */
export interface KeySet {
  /** Rejects with jose `JWKSNoMatchingKey` for an unknown `kid`, or a CallguardError ERR_KEYS_UNAVAILABLE. */
  getKey(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey>;
  close(): void;
}

export type LocalKeyLookup = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;

/**
 * Validates a JWKS document (RFC 7517 §5) and wraps it in jose's local key set. Symmetric and
 * private members are refused: a JWKS for verification holds public keys only.
 */
export function toLocalKeyLookup(document: unknown): LocalKeyLookup {
  if (typeof document !== 'object' || document === null || !Array.isArray((document as { keys?: unknown }).keys)) {
    throw new Error('not a JSON Web Key Set (RFC 7517 §5): no "keys" array');
  }
  const { keys } = document as { keys: unknown[] };
  for (const [index, jwk] of keys.entries()) {
    if (typeof jwk !== 'object' || jwk === null) throw new Error(`keys[${index}] is not an object`);
    const { kty, d } = jwk as Record<string, unknown>;
    if (kty === 'oct' || d !== undefined) throw new Error(`keys[${index}] is not a public key`);
  }
  return createLocalJWKSet(document as JSONWebKeySet);
}

/** Reads a JWKS file once, at creation; a bad file is a ConfigProblem naming the file. */
export async function loadJwksFile(file: string, path: string): Promise<KeySet | ConfigProblem> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return { file, path, message: `cannot read the JWKS file: ${(error as NodeJS.ErrnoException).code ?? 'error'}` };
  }
  try {
    const lookup = toLocalKeyLookup(JSON.parse(text));
    return { getKey: lookup, close: () => {} };
  } catch (error) {
    return { file, path, message: `not a usable JWKS: ${(error as Error).message}` };
  }
}
