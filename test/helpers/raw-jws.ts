import type { TestKey } from './jwt-issuer.js';

const PARAMS = {
  RS256: { name: 'RSASSA-PKCS1-v1_5' },
  ES256: { name: 'ECDSA', hash: 'SHA-256' },
} as const;

/** The order of the P-256 group (SEC 2 §2.4.2): ECDSA `s` and `n − s` both verify. */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

/**
 * A compact JWS signed for real over exactly these header and payload texts (duplicates, odd spacing
 * and all), or over these exact segments when `segments` is set: what jose's SignJWT cannot make.
 */
export async function signRaw(key: TestKey, header: string, payload: string, segments?: { header: string; payload: string }): Promise<string> {
  const signingInput = segments === undefined ? `${b64url(Buffer.from(header))}.${b64url(Buffer.from(payload))}` : `${segments.header}.${segments.payload}`;
  const signature = await crypto.subtle.sign(PARAMS[key.alg], key.privateKey, Buffer.from(signingInput));
  return `${signingInput}.${b64url(new Uint8Array(signature))}`;
}

/** The same ES256 token with its signature's `s` replaced by `n − s` (JWS: r‖s, 32 bytes each, RFC 7518 §3.4). */
export function toOtherS(token: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const raw = Buffer.from(signature, 'base64url');
  if (raw.length !== 64) throw new TypeError('not an ES256 signature');
  const s = BigInt(`0x${raw.subarray(32).toString('hex')}`);
  const other = Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex');
  return `${header}.${payload}.${b64url(Buffer.concat([raw.subarray(0, 32), other]))}`;
}

/** Whether an ES256 token's `s` is in the upper half of the group order (the "high-S" form). */
export function isHighS(token: string): boolean {
  const raw = Buffer.from(token.split('.')[2] ?? '', 'base64url');
  return BigInt(`0x${raw.subarray(32).toString('hex')}`) > P256_ORDER / 2n;
}

/**
 * Another spelling of the same bytes: the last character with one of its unused low bits set
 * (RFC 4648 §3.5). Only for a segment whose length is not a multiple of 4.
 */
export function withUnusedBits(segment: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  if (segment.length % 4 < 2) throw new TypeError('segment has no unused bits');
  const last = alphabet.indexOf(segment.at(-1) ?? '');
  return `${segment.slice(0, -1)}${alphabet[last ^ 1]}`;
}
