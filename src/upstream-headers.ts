import type { Caller, CredentialPrincipal } from './principal.js';

/** The upstream header names for one prefix, built once (not per call). */
interface HeaderNames {
  readonly function: string;
  readonly decisionId: string;
  readonly subject: string;
  readonly issuer: string;
  readonly groups: string;
  readonly credential: string;
  readonly spiffeId: string;
}
const namesByPrefix = new Map<string, HeaderNames>();

function headerNames(prefix: string): HeaderNames {
  let names = namesByPrefix.get(prefix);
  if (names === undefined) {
    names = {
      function: `${prefix}function`,
      decisionId: `${prefix}decision-id`,
      subject: `${prefix}subject`,
      issuer: `${prefix}issuer`,
      groups: `${prefix}groups`,
      credential: `${prefix}credential`,
      spiffeId: `${prefix}spiffe-id`,
    };
    namesByPrefix.set(prefix, names);
  }
  return names;
}

/**
 * Headers for an allowed call: the verified identity goes upstream, the credential does not.
 * Every identity header callguard did not set on this call is removed (whether or not callguard saw
 * the caller send it: Envoy may be configured to forward only some headers to ext_authz), and so is
 * any other caller header carrying the prefix. Ours are set with overwrite semantics
 * (Envoy OVERWRITE_IF_EXISTS_OR_ADD replaces every instance).
 */
export function upstreamHeaders(
  callerHeaders: Readonly<Record<string, string>>,
  caller: Caller,
  functionName: string,
  decisionId: string,
  prefix: string,
  credentialHeaders: readonly string[] = ['authorization'],
): { setHeaders: Record<string, string>; removeHeaders: string[] } {
  const names = headerNames(prefix);
  const setHeaders: Record<string, string> = { [names.function]: functionName, [names.decisionId]: decisionId };
  // Envoy applies headers_to_remove after setting headers: never remove one we set.
  const removeHeaders = [...credentialHeaders];
  const credential = caller.credential;
  if (credential) {
    const values = credentialHeaderValues(credential);
    setHeaders[names.subject] = values.subject;
    setHeaders[names.issuer] = values.issuer;
    setHeaders[names.groups] = values.groups;
    setHeaders[names.credential] = credential.kind;
  } else {
    removeHeaders.push(names.subject, names.issuer, names.groups, names.credential);
  }
  if (caller.peer) setHeaders[names.spiffeId] = caller.peer.spiffeId;
  else removeHeaders.push(names.spiffeId);
  for (const name in callerHeaders) {
    if (name.startsWith(prefix) && !(name in setHeaders) && !removeHeaders.includes(name)) removeHeaders.push(name);
  }
  return { setHeaders, removeHeaders };
}

/**
 * Headers for a shadow-mode call that would have been denied (`functions[].mode: shadow`): it goes
 * upstream as the caller sent it, except that no identity header reaches the function (none set, every
 * one a caller sent removed, with any other header carrying the prefix); only the decision id is set,
 * so the function's logs can be matched with the `would-deny` line.
 */
export function shadowHeaders(
  callerHeaders: Readonly<Record<string, string>>,
  decisionId: string,
  prefix: string,
): { setHeaders: Record<string, string>; removeHeaders: string[] } {
  const names = headerNames(prefix);
  const removeHeaders = [names.function, names.subject, names.issuer, names.groups, names.credential, names.spiffeId];
  for (const name in callerHeaders) {
    if (name.startsWith(prefix) && name !== names.decisionId && !removeHeaders.includes(name)) removeHeaders.push(name);
  }
  return { setHeaders: { [names.decisionId]: decisionId }, removeHeaders };
}

/**
 * A verified principal is immutable and, for a cached token or a key, the same object on every
 * call: its header values are encoded once.
 */
const encodedPrincipals = new WeakMap<CredentialPrincipal, { subject: string; issuer: string; groups: string }>();

function credentialHeaderValues(principal: CredentialPrincipal): { subject: string; issuer: string; groups: string } {
  let values = encodedPrincipals.get(principal);
  if (values === undefined) {
    values = { subject: headerValue(principal.subject), issuer: headerValue(principal.issuer), groups: principal.groups.map(headerValue).join(',') };
    encodedPrincipals.set(principal, values);
  }
  return values;
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
