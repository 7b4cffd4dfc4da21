import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { hasRocaFingerprint } from './roca-fingerprint.js';

/** The verdict on one key: usable, or refused with a log-safe reason (never key material). */
export type KeyCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** What the key is about to be used for. */
export interface KeyUse {
  /** The JWS algorithm (RFC 7518 §3.1) the key must fit; absent: the key's own `alg`, else any its type allows. */
  readonly alg?: string;
}

/** RFC 7518 §3.2: an HMAC key must be at least as long as the hash output. */
export const HMAC_MIN_SECRET_BYTES: Readonly<Record<string, number>> = { HS256: 32, HS384: 48, HS512: 64 };

/** Below this an RSA modulus is refused (RFC 7518 §3.3: 2048 bits or larger; NIST SP 800-131A). */
export const MIN_RSA_MODULUS_BITS = 2048;
/** Above this verification gets expensive enough to serve as a denial of service; no IdP publishes one. */
export const MAX_RSA_MODULUS_BITS = 16384;
/** The smallest public exponent accepted (the common F4; e = 3 and smaller invite forgeries). */
export const MIN_RSA_EXPONENT = 65537n;

const RSA_ALGS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']);
/** RFC 7518 §3.4: each ECDSA algorithm is defined over exactly one curve; coordinates are full-length (§6.2.1.2). */
const EC_CURVES: Readonly<Record<string, { alg: string; bytes: number }>> = {
  'P-256': { alg: 'ES256', bytes: 32 },
  'P-384': { alg: 'ES384', bytes: 48 },
  'P-521': { alg: 'ES512', bytes: 66 },
};
/** RFC 8037 §3.1 `EdDSA`, RFC 9864 `Ed25519`; Ed448 is not accepted. */
const OKP_ALGS = new Set(['EdDSA', 'Ed25519']);
/** Members that hold private or secret key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

const refuse = (reason: string): KeyCheck => ({ ok: false, reason });
/** A member's value for a reason: JSON-quoted (no line breaks reach a log) and cut short (a key set is untrusted). */
const quote = (value: unknown): string => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
};
const OK: KeyCheck = { ok: true };

/** The unsigned big-endian integer in a base64url member (RFC 7518 §2 Base64urlUInt), or undefined. */
function readUInt(value: unknown): bigint | undefined {
  if (typeof value !== 'string' || !BASE64URL.test(value)) return undefined;
  const hex = Buffer.from(value, 'base64url').toString('hex');
  return hex === '' ? undefined : BigInt(`0x${hex}`);
}

function readBytes(value: unknown): Buffer | undefined {
  return typeof value === 'string' && BASE64URL.test(value) ? Buffer.from(value, 'base64url') : undefined;
}

/** Lets OpenSSL parse the public part: for EC this checks the point is on the curve. */
function importProblem(jwk: JsonWebKey): string | undefined {
  try {
    createPublicKey({ key: jwk, format: 'jwk' });
    return undefined;
  } catch {
    return 'the key does not import (for EC: the point is not on the curve)';
  }
}

function checkRsa(jwk: Readonly<Record<string, unknown>>): KeyCheck {
  const n = readUInt(jwk['n']);
  const e = readUInt(jwk['e']);
  if (n === undefined || e === undefined) return refuse('RSA key without a base64url "n" and "e"');
  const bits = n.toString(2).length;
  if (bits < MIN_RSA_MODULUS_BITS) return refuse(`RSA modulus has ${bits} bits; at least ${MIN_RSA_MODULUS_BITS} are required`);
  if (bits > MAX_RSA_MODULUS_BITS) return refuse(`RSA modulus has ${bits} bits; at most ${MAX_RSA_MODULUS_BITS} are accepted`);
  if (e % 2n === 0n) return refuse('RSA public exponent is even');
  if (e < MIN_RSA_EXPONENT) return refuse(`RSA public exponent ${e} is below ${MIN_RSA_EXPONENT}`);
  if (e >= n) return refuse('RSA public exponent is not below the modulus');
  if (hasRocaFingerprint(n)) return refuse('RSA modulus has the ROCA fingerprint (CVE-2017-15361): it can be factored');
  const problem = importProblem({ kty: 'RSA', n: jwk['n'] as string, e: jwk['e'] as string });
  return problem === undefined ? OK : refuse(problem);
}

function checkEc(jwk: Readonly<Record<string, unknown>>, alg: string | undefined): KeyCheck {
  const crv = jwk['crv'];
  const curve = typeof crv === 'string' ? EC_CURVES[crv] : undefined;
  if (curve === undefined) return refuse(`EC curve ${quote(crv)} is not P-256, P-384 or P-521`);
  if (alg !== undefined && alg !== curve.alg) return refuse(`EC key on ${crv} cannot be used with ${alg} (RFC 7518 §3.4: ${curve.alg})`);
  const [x, y] = [readBytes(jwk['x']), readBytes(jwk['y'])];
  if (x?.length !== curve.bytes || y?.length !== curve.bytes) return refuse(`EC key without ${curve.bytes}-byte "x" and "y" (RFC 7518 §6.2.1.2)`);
  const problem = importProblem({ kty: 'EC', crv: crv as string, x: jwk['x'] as string, y: jwk['y'] as string });
  return problem === undefined ? OK : refuse(problem);
}

function checkOkp(jwk: Readonly<Record<string, unknown>>): KeyCheck {
  if (jwk['crv'] !== 'Ed25519') return refuse(`OKP curve ${quote(jwk['crv'])} is not Ed25519`);
  if (readBytes(jwk['x'])?.length !== 32) return refuse('Ed25519 key without a 32-byte "x" (RFC 8037 §2)');
  const problem = importProblem({ kty: 'OKP', crv: 'Ed25519', x: jwk['x'] as string });
  return problem === undefined ? OK : refuse(problem);
}

/** The algorithms a key type can verify, for the `alg` consistency check. */
function fitsKeyType(kty: string, alg: string): boolean {
  if (kty === 'RSA') return RSA_ALGS.has(alg);
  if (kty === 'EC') return Object.values(EC_CURVES).some((curve) => curve.alg === alg);
  return kty === 'OKP' && OKP_ALGS.has(alg);
}

/**
 * Checks one JWK from a public key set (JWKS file or URL) before it may verify anything: a public
 * signature key (no private or secret members, RFC 7517 §5; no `oct`), meant for signatures (`use`,
 * `key_ops`, RFC 7517 §4.2-4.3), whose `alg` fits its type, and strong: RSA with a modulus of
 * 2048 to 16384 bits, an odd exponent of at least 65537 and no ROCA fingerprint; EC on the curve its
 * algorithm names, the point on that curve; OKP only Ed25519. Refusal reasons never quote key material.
 */
export function checkJwk(jwk: unknown, use: KeyUse = {}): KeyCheck {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return refuse('not a JSON object');
  const key = jwk as Readonly<Record<string, unknown>>;
  const { kty, alg: keyAlg } = key;
  if (typeof kty !== 'string') return refuse('no "kty"');
  if (kty === 'oct') return refuse('not a public key: a symmetric ("oct") key is a secret and has no place in a public key set');
  const secret = PRIVATE_MEMBERS.filter((member) => key[member] !== undefined);
  if (secret.length > 0) return refuse(`not a public key: it has the private member${secret.length > 1 ? 's' : ''} ${secret.map((m) => `"${m}"`).join(', ')}`);
  if (kty !== 'RSA' && kty !== 'EC' && kty !== 'OKP') return refuse(`key type ${quote(kty)} is not RSA, EC or OKP`);
  if (key['use'] !== undefined && key['use'] !== 'sig') return refuse(`"use" is ${quote(key['use'])}, not "sig"`);
  const ops = key['key_ops'];
  if (ops !== undefined && !(Array.isArray(ops) && ops.includes('verify'))) return refuse('"key_ops" does not include "verify"');
  if (keyAlg !== undefined && (typeof keyAlg !== 'string' || !fitsKeyType(kty, keyAlg))) {
    return refuse(`"alg" ${quote(keyAlg)} is not a signature algorithm for ${kty} keys`);
  }
  if (use.alg !== undefined && (!fitsKeyType(kty, use.alg) || (keyAlg !== undefined && keyAlg !== use.alg))) {
    return refuse(`the key cannot be used with ${quote(use.alg)}`);
  }
  const alg = use.alg ?? (keyAlg as string | undefined);
  if (kty === 'RSA') return checkRsa(key);
  if (kty === 'EC') return checkEc(key, alg);
  return checkOkp(key);
}

/**
 * Checks a shared secret for an HS* algorithm: RFC 7518 §3.2 requires a key at least as long as the
 * hash output (32, 48, 64 bytes). A secret is usable only for the algorithms it is long enough for.
 */
export function checkHmacSecret(secret: Uint8Array, alg: string): KeyCheck {
  const min = HMAC_MIN_SECRET_BYTES[alg];
  if (min === undefined) return refuse(`${quote(alg)} is not an HMAC algorithm`);
  return secret.length >= min ? OK : refuse(`the HMAC secret has ${secret.length} bytes; at least ${min} are required for ${alg} (RFC 7518 §3.2)`);
}
