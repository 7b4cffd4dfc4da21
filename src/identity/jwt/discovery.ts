import type { FetchJson } from '../fetch-json.js';

/** Where the issuer's OIDC discovery document lives (OIDC Discovery 1.0 §4: no doubled slash). */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** The rule config loading applies to `jwksUrl`, applied to a discovered `jwks_uri`: https, or http on loopback. */
function isSafeKeyUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const { protocol, hostname } = new URL(value);
  return protocol === 'https:' || (protocol === 'http:' && LOOPBACK.has(hostname));
}

/**
 * Creates a resolver for the issuer's `jwks_uri` through OIDC discovery. The document's `issuer`
 * must equal the configured issuer exactly (OIDC Discovery 1.0 §4.3), else a mix-up is possible.
 * A successful answer is remembered; failures are retried on the next call.
 */
export function createJwksUriResolver(issuer: string, fetchJson: FetchJson): (signal: AbortSignal) => Promise<string> {
  let jwksUri: string | undefined;
  return async (signal) => {
    if (jwksUri !== undefined) return jwksUri;
    const url = discoveryUrl(issuer);
    const document = await fetchJson(url, signal);
    if (typeof document !== 'object' || document === null || Array.isArray(document)) {
      throw new Error(`${url}: not a JSON object`);
    }
    const { issuer: claimed, jwks_uri: uri } = document as Record<string, unknown>;
    if (claimed !== issuer) throw new Error(`${url}: "issuer" does not equal the configured issuer`);
    if (typeof uri !== 'string' || !isSafeKeyUrl(uri)) {
      throw new Error(`${url}: "jwks_uri" is missing or not https (http only on loopback)`);
    }
    jwksUri = uri;
    return uri;
  };
}
