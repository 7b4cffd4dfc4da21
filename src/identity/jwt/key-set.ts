import { readFile } from 'node:fs/promises';
import { type CryptoKey, createLocalJWKSet, type FlattenedJWSInput, type JSONWebKeySet, type JWSHeaderParameters } from 'jose';
import type { ConfigProblem } from '../../errors.js';
import { checkJwk } from './key-hygiene.js';

/** The issuer's public keys: resolves the verification key for a token's protected header. */
export interface KeySet {
  /** Rejects with jose `JWKSNoMatchingKey` for an unknown `kid`, or a CallguardError ERR_KEYS_UNAVAILABLE. */
  getKey(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey>;
  close(): void;
}

export type LocalKeyLookup = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;

/** A key of a JWKS that `checkJwk` refused, named by position and `kid`, never by its material. */
export interface RefusedKey {
  readonly index: number;
  readonly kid?: string;
  readonly reason: string;
}

/** The usable part of a JWKS, and what was dropped from it. */
export interface CheckedKeySet {
  readonly lookup: LocalKeyLookup;
  readonly refused: readonly RefusedKey[];
}

/** Refused keys named in one log line or config problem; the rest are counted. */
const MAX_NAMED_KEYS = 8;

/** `keys[2] (kid "a"): reason; …`: at most {@link MAX_NAMED_KEYS} keys, then a count. */
export function describeRefusedKeys(refused: readonly RefusedKey[]): string {
  const named = refused.slice(0, MAX_NAMED_KEYS).map(({ index, kid, reason }) => {
    const label = kid === undefined ? '' : ` (kid ${JSON.stringify(kid.length > 40 ? `${kid.slice(0, 37)}...` : kid)})`;
    return `keys[${index}]${label}: ${reason}`;
  });
  const more = refused.length - named.length;
  return named.join('; ') + (more > 0 ? `; and ${more} more` : '');
}

/**
 * Validates a JWKS document (RFC 7517 §5) and wraps the keys `checkJwk` accepts in jose's local key
 * set; the others are returned as `refused`, for the caller to decide (a file: a config problem; a
 * URL: a warning, the rest of the set keeps working). Throws only if the document is not a JWKS.
 */
export function toCheckedKeySet(document: unknown): CheckedKeySet {
  if (typeof document !== 'object' || document === null || !Array.isArray((document as { keys?: unknown }).keys)) {
    throw new Error('not a JSON Web Key Set (RFC 7517 §5): no "keys" array');
  }
  const usable: unknown[] = [];
  const refused: RefusedKey[] = [];
  for (const [index, jwk] of (document as { keys: unknown[] }).keys.entries()) {
    const check = checkJwk(jwk);
    if (check.ok) {
      usable.push(jwk);
      continue;
    }
    const kid = typeof jwk === 'object' && jwk !== null ? (jwk as { kid?: unknown }).kid : undefined;
    refused.push({ index, ...(typeof kid === 'string' ? { kid } : {}), reason: check.reason });
  }
  return { lookup: createLocalJWKSet({ keys: usable } as JSONWebKeySet), refused };
}

/**
 * Reads a JWKS file once, at creation. An unreadable or malformed file, or any key `checkJwk`
 * refuses, is a ConfigProblem naming the file, the key (index and `kid`) and the reason: the
 * operator wrote the file, so a bad key in it is a mistake to fix before starting, not to skip.
 */
export async function loadJwksFile(file: string, path: string): Promise<KeySet | ConfigProblem> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return { file, path, message: `cannot read the JWKS file: ${(error as NodeJS.ErrnoException).code ?? 'error'}` };
  }
  let checked: CheckedKeySet;
  try {
    checked = toCheckedKeySet(JSON.parse(text));
  } catch (error) {
    return { file, path, message: `not a usable JWKS: ${(error as Error).message}` };
  }
  if (checked.refused.length > 0) return { file, path, message: `not a usable JWKS: refused ${describeRefusedKeys(checked.refused)}` };
  return { getKey: checked.lookup, close: () => {} };
}
