import type { AllowRule, FunctionConfig } from '../config/types.js';
import type { Principal } from '../principal.js';

/** Default deny: true only when some `allow` rule of the function matches the principal. */
export function isPermitted(fn: FunctionConfig, principal: Principal): boolean {
  return fn.allow.some((rule) => ruleMatches(rule, principal));
}

function ruleMatches(rule: AllowRule, principal: Principal): boolean {
  if ('spiffeIds' in rule) {
    return principal.peer !== undefined && rule.spiffeIds.includes(principal.peer.spiffeId);
  }
  const jwt = principal.jwt;
  if (jwt === undefined || jwt.issuerName !== rule.issuer) return false;
  if (rule.subjects?.includes(jwt.subject)) return true;
  return rule.groups !== undefined && jwt.groups.some((g) => rule.groups?.includes(g));
}

/** Whether any rule of the function could be satisfied by a bearer token (vs mTLS peers only). */
export function acceptsTokens(fn: FunctionConfig): boolean {
  return fn.allow.some((rule) => 'issuer' in rule);
}
