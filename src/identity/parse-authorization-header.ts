import type { ReasonCode } from '../errors.js';

/** Outcome of reading an `Authorization` header; `undefined` from the parser means no header at all. */
export type AuthorizationHeaderResult =
  | { ok: true; token: string }
  | { ok: false; code: ReasonCode; detail: string };

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token; we accept exactly one SP, as every client sends.
// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const BEARER = /^bearer ([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * Extracts the bearer token from an `Authorization` header value.
 * A comma means Envoy joined duplicate headers (RFC 9110 §5.3): ambiguous, so malformed.
 */
export function parseAuthorizationHeader(value: string | undefined): AuthorizationHeaderResult | undefined {
  if (value === undefined) return undefined;
  const token = BEARER.exec(value)?.[1];
  if (token === undefined) {
    // b64token has no comma, so only a failed match needs telling apart from joined duplicates.
    if (value.includes(',')) return { ok: false, code: 'ERR_TOKEN_MALFORMED', detail: 'more than one Authorization header value' };
    return {
      ok: false,
      code: 'ERR_TOKEN_MALFORMED',
      detail: "the Authorization header is not 'Bearer <token>' (RFC 6750 §2.1)",
    };
  }
  return { ok: true, token };
}
