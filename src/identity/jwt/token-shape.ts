import type { ReasonCode } from '../../errors.js';
import { parseStrictJson } from '../../payload/strict-json.js';
import { isCanonicalBase64url } from './canonical-base64url.js';

/** The unverified parts of a compact JWS, read only to choose the issuer and reject early. */
export interface TokenShape {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly alg: string;
  /** The unverified `iss`: selects the issuer entry; jose checks it again after the signature. */
  readonly iss: string;
  /** RFC 7515 §5.1: `header.payload`, the two segments the signature covers; hashed for `tokenHash`. */
  readonly signingInput: string;
}

export type TokenShapeResult = { ok: true; shape: TokenShape } | { ok: false; code: ReasonCode; detail: string };

/**
 * Nesting allowed in the header and the claims (`{}` is depth 1). Real claims nest a few levels (Keycloak's
 * `resource_access.<client>.roles` is 3); the bound keeps the recursive parser's stack small.
 */
const MAX_JSON_DEPTH = 32;

function fail(code: ReasonCode, detail: string): TokenShapeResult {
  return { ok: false, code, detail };
}

function notCanonical(segment: 'header' | 'payload' | 'signature'): TokenShapeResult {
  return fail('ERR_TOKEN_MALFORMED', `the token ${segment} is not canonical base64url (RFC 7515 §2, RFC 4648 §3.5)`);
}

/**
 * Decodes a header or payload segment (already canonical base64url) as one strict JSON object, or says
 * why not. RFC 7515 §4 and RFC 7519 §4 let a parser either refuse duplicate member names or keep the
 * last; we refuse them at every depth, since jose keeps the last and whatever reads the claims after us
 * may keep the first (`{"alg":"none",…,"alg":"ES256"}`).
 */
function decodeObject(segment: string, part: 'header' | 'payload'): Record<string, unknown> | string {
  const bytes = Buffer.from(segment, 'base64url');
  // Exact numbers turn on the parser's native fast path, and the only refusals they add are about
  // numbers: a refusal is asked again without them, so a claim beyond 2^53 (which jose reads rounded,
  // as before) is not refused. Same answer as one parse with `exactNumbers: false`, faster.
  let parsed = parseStrictJson(bytes, { maxDepth: MAX_JSON_DEPTH });
  if (!parsed.ok) parsed = parseStrictJson(bytes, { maxDepth: MAX_JSON_DEPTH, exactNumbers: false });
  if (!parsed.ok) {
    // The parser's reason names a rule, never the input, so it is safe to show (the tests pin the wording).
    if (parsed.reason.startsWith('duplicate object key')) {
      return part === 'header' ? 'duplicate member name in the JOSE header (RFC 7515 §4)' : 'duplicate member name in the claims (RFC 7519 §4)';
    }
    return `the token ${part} is not a JSON object (${parsed.reason})`;
  }
  const { value } = parsed;
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : `the token ${part} is not a JSON object`;
}

/**
 * Checks a bearer token's shape before any key lookup: size, compact serialization in canonical
 * base64url, strict JSON header and payload without duplicate members, `alg`, `crit` and `iss`.
 * Cheap rejections that never touch keys or the network. Details are public: they never echo the
 * token or its claims.
 */
export function inspectToken(token: string, maxTokenBytes: number): TokenShapeResult {
  if (token.length > maxTokenBytes) return fail('ERR_TOKEN_MALFORMED', `the token is longer than ${maxTokenBytes} bytes`);
  // RFC 7515 §7.1: three segments separated by two dots.
  const segments = token.split('.');
  if (segments.length !== 3) return fail('ERR_TOKEN_MALFORMED', 'the token is not three base64url segments (RFC 7515 §7.1)');
  const [headerSegment = '', payloadSegment = '', signature = ''] = segments;
  // RFC 7515 §2 (base64url without padding) with RFC 4648 §3.5 (unused bits zero): one spelling per
  // token, so that no re-encoding of a segment is a second token with the same meaning.
  if (!isCanonicalBase64url(headerSegment)) return notCanonical('header');
  if (!isCanonicalBase64url(payloadSegment)) return notCanonical('payload');
  const header = decodeObject(headerSegment, 'header');
  if (typeof header === 'string') return fail('ERR_TOKEN_MALFORMED', header);
  const payload = decodeObject(payloadSegment, 'payload');
  if (typeof payload === 'string') return fail('ERR_TOKEN_MALFORMED', payload);
  const { alg, crit } = header;
  // RFC 7515 §4.1.1: `alg` is required.
  if (typeof alg !== 'string') return fail('ERR_TOKEN_MALFORMED', 'the token header has no "alg"');
  // RFC 8725 §3.1 / §2.1: an unsecured JWT is never acceptable here (named as such, whatever follows).
  if (alg.toLowerCase() === 'none') return fail('ERR_TOKEN_ALGORITHM', 'unsecured tokens (alg "none") are not accepted');
  if (signature === '') return fail('ERR_TOKEN_MALFORMED', 'the token has no signature');
  // ECDSA high-S is accepted: `s` and `n − s` both verify (jose and WebCrypto accept both; Go, AWS KMS
  // and many HSMs emit either, so refusing one would refuse about half of such issuers' real tokens).
  // The second spelling gains an attacker nothing: it has the same signing input, hence the same
  // `tokenHash` in the log, and the same `jti` wherever single use is enforced.
  if (!isCanonicalBase64url(signature)) return notCanonical('signature');
  // RFC 7515 §4.1.11: we understand no extensions, so any `crit` must be rejected.
  if (crit !== undefined) return fail('ERR_TOKEN_MALFORMED', 'the token header lists critical extensions');
  const { iss } = payload;
  if (typeof iss !== 'string') return fail('ERR_TOKEN_ISSUER', 'the token has no "iss" claim');
  const signingInput = token.slice(0, headerSegment.length + 1 + payloadSegment.length);
  return { ok: true, shape: { header, payload, alg, iss, signingInput } };
}
