import type { JWTPayload } from 'jose';
import type { IssuerConfig } from '../../config/types.js';
import type { JwtPrincipal } from '../../principal.js';
import { claimReader } from '../read-claim.js';

/**
 * Reads the caller's groups from `claim` (a name or a JSON pointer, see {@link claimReader}): an
 * array of strings, or one string. Anything else reads as no groups rather than a failure: groups
 * only ever widen what a caller may do.
 */
export function readGroups(payload: JWTPayload, claim: string): readonly string[] {
  const value = claimReader(claim)(payload);
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((group): group is string => typeof group === 'string')) return value;
  return [];
}

/**
 * Builds the verified principal from a payload jose has verified (`sub` and `exp` are present).
 * The claims become `attributes` (frozen, read by claim rules): built once per token, then cached.
 */
export function toJwtPrincipal(issuer: IssuerConfig, payload: JWTPayload, tokenHash: string): JwtPrincipal {
  const principal: JwtPrincipal = {
    kind: 'jwt',
    source: issuer.name,
    issuer: issuer.issuer,
    subject: payload.sub as string,
    groups: Object.freeze([...readGroups(payload, issuer.groupsClaim)]),
    attributes: deepFreeze(payload),
    tokenHash,
    expiresAt: payload.exp as number,
  };
  return Object.freeze(typeof payload.jti === 'string' ? { ...principal, jti: payload.jti } : principal);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}
