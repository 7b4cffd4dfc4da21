import type { Principal } from './principal.js';

/** Every identity header callguard may set, without the prefix. */
const IDENTITY_HEADERS = ['function', 'decision-id', 'subject', 'issuer', 'groups', 'spiffe-id'] as const;

/**
 * Headers for an allowed call: the verified identity goes upstream, the credential does not.
 * Every identity header callguard did not set on this call is removed (whether or not callguard saw
 * the caller send it: Envoy may be configured to forward only some headers to ext_authz), and so is
 * any other caller header carrying the prefix. Ours are set with overwrite semantics
 * (Envoy OVERWRITE_IF_EXISTS_OR_ADD replaces every instance).
 */
export function upstreamHeaders(
  callerHeaders: Readonly<Record<string, string>>,
  principal: Principal,
  functionName: string,
  decisionId: string,
  prefix: string,
): { setHeaders: Record<string, string>; removeHeaders: string[] } {
  const setHeaders: Record<string, string> = {
    [`${prefix}function`]: functionName,
    [`${prefix}decision-id`]: decisionId,
  };
  if (principal.jwt) {
    setHeaders[`${prefix}subject`] = headerValue(principal.jwt.subject);
    setHeaders[`${prefix}issuer`] = headerValue(principal.jwt.issuer);
    setHeaders[`${prefix}groups`] = principal.jwt.groups.map(headerValue).join(',');
  }
  if (principal.peer) setHeaders[`${prefix}spiffe-id`] = principal.peer.spiffeId;

  // Envoy applies headers_to_remove after setting headers: never remove one we set.
  const remove = new Set(['authorization']);
  for (const name of IDENTITY_HEADERS) remove.add(`${prefix}${name}`);
  for (const name of Object.keys(callerHeaders)) if (name.startsWith(prefix)) remove.add(name);
  for (const name of Object.keys(setHeaders)) remove.delete(name);
  return { setHeaders, removeHeaders: [...remove] };
}

/** Characters passed through as they are: no space, comma, semicolon, quote or percent. */
const SAFE = /^[A-Za-z0-9\-._~:/@!$&'()*+=]*$/;

/**
 * Claim values are caller-influenced (an IdP may let users pick names): anything outside a safe
 * set is percent-encoded as UTF-8, so no parser can trim, split or reinterpret it (RFC 9110 §5.5:
 * leading/trailing spaces are stripped, commas separate list members).
 */
export function headerValue(value: string): string {
  if (SAFE.test(value)) return value;
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += byte < 0x80 && SAFE.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
