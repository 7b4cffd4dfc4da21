import type { JWTPayload } from 'jose';
import type { IssuerConfig } from '../config/types.js';
import type { JwtIdentity } from '../principal.js';

/**
 * Reads the caller's groups from `claim`: an array of strings, or one string. Anything else reads
 * as no groups rather than a failure: groups only ever widen what a caller may do.
 */
export function readGroups(payload: JWTPayload, claim: string): readonly string[] {
  const value = payload[claim];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((group): group is string => typeof group === 'string')) return value;
  return [];
}

/** Builds the verified identity from a payload jose has verified (`sub` and `exp` are present). */
export function toJwtIdentity(issuer: IssuerConfig, payload: JWTPayload, tokenHash: string): JwtIdentity {
  const identity: JwtIdentity = {
    issuerName: issuer.name,
    issuer: issuer.issuer,
    subject: payload.sub as string,
    groups: Object.freeze([...readGroups(payload, issuer.groupsClaim)]),
    tokenHash,
    expiresAt: payload.exp as number,
  };
  return Object.freeze(typeof payload.jti === 'string' ? { ...identity, jti: payload.jti } : identity);
}
