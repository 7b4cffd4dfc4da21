import type { Principal } from './principal.js';

/**
 * Headers for an allowed call: the verified identity goes upstream, the credential does not.
 * Caller headers carrying our prefix are removed first, so identity headers cannot be spoofed;
 * ours are set with overwrite semantics (Envoy OVERWRITE_IF_EXISTS_OR_ADD).
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
    setHeaders[`${prefix}groups`] = principal.jwt.groups.map(listItem).join(',');
  }
  if (principal.peer) setHeaders[`${prefix}spiffe-id`] = principal.peer.spiffeId;

  const removeHeaders = ['authorization'];
  for (const name of Object.keys(callerHeaders)) {
    // Envoy applies headers_to_remove after setting headers: never remove one we set.
    if (name.startsWith(prefix) && !(name in setHeaders)) removeHeaders.push(name);
  }
  return { setHeaders, removeHeaders };
}

const PRINTABLE = /^[\x20-\x7e]*$/;

/** Claim values are caller-influenced: anything outside printable ASCII is percent-encoded. */
function headerValue(value: string): string {
  return PRINTABLE.test(value) && !value.includes('%') ? value : encodeURIComponent(value);
}

function listItem(value: string): string {
  return PRINTABLE.test(value) && !value.includes(',') && !value.includes('%') ? value : encodeURIComponent(value);
}
