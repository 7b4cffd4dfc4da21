import type { ReasonCode } from '../../errors.js';

/** The unverified parts of a compact JWS, read only to choose the issuer and reject early. */
export interface TokenShape {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly alg: string;
  /** The unverified `iss`: selects the issuer entry; jose checks it again after the signature. */
  readonly iss: string;
}

export type TokenShapeResult =
  | { ok: true; shape: TokenShape }
  | { ok: false; code: ReasonCode; detail: string };

// RFC 7515 §7.1: three base64url segments (RFC 7515 §2: no padding), no whitespace.
// The signature may be empty here only so that an unsecured (`alg: none`) token is named as such.
const COMPACT_JWS = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function fail(code: ReasonCode, detail: string): TokenShapeResult {
  return { ok: false, code, detail };
}

function decodeObject(segment: string): Record<string, unknown> | undefined {
  // A base64url string of length 4n+1 cannot be produced by any encoder.
  if (segment.length % 4 === 1) return undefined;
  try {
    const value: unknown = JSON.parse(utf8.decode(Buffer.from(segment, 'base64url')));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks a bearer token's shape before any key lookup: size, compact serialization, JSON header and
 * payload, `alg`, `crit` and `iss`. Cheap rejections that never touch keys or the network.
 * Details are public: they never echo the token or its claims.
 */
export function inspectToken(token: string, maxTokenBytes: number): TokenShapeResult {
  if (token.length > maxTokenBytes) return fail('ERR_TOKEN_MALFORMED', `the token is longer than ${maxTokenBytes} bytes`);
  const segments = COMPACT_JWS.exec(token);
  if (segments === null) {
    return fail('ERR_TOKEN_MALFORMED', 'the token is not three base64url segments (RFC 7515 §7.1)');
  }
  const header = decodeObject(segments[1] ?? '');
  if (header === undefined) return fail('ERR_TOKEN_MALFORMED', 'the token header is not a JSON object');
  const payload = decodeObject(segments[2] ?? '');
  if (payload === undefined) return fail('ERR_TOKEN_MALFORMED', 'the token payload is not a JSON object');
  const { alg, crit } = header;
  // RFC 7515 §4.1.1: `alg` is required.
  if (typeof alg !== 'string') return fail('ERR_TOKEN_MALFORMED', 'the token header has no "alg"');
  // RFC 8725 §3.1 / §2.1: an unsecured JWT is never acceptable here.
  if (alg.toLowerCase() === 'none') return fail('ERR_TOKEN_ALGORITHM', 'unsecured tokens (alg "none") are not accepted');
  if (segments[3] === '') return fail('ERR_TOKEN_MALFORMED', 'the token has no signature');
  // RFC 7515 §4.1.11: we understand no extensions, so any `crit` must be rejected.
  if (crit !== undefined) return fail('ERR_TOKEN_MALFORMED', 'the token header lists critical extensions');
  const { iss } = payload;
  if (typeof iss !== 'string') return fail('ERR_TOKEN_ISSUER', 'the token has no "iss" claim');
  return { ok: true, shape: { header, payload, alg, iss } };
}
