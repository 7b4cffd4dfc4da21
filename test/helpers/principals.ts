import type { ApiKeyPrincipal, JwtPrincipal, MtlsPrincipal, SamlPrincipal } from '../../src/principal.js';

/** A verified JWT principal as the JWT authenticator builds it (claims become attributes). */
export function jwtPrincipal(source: string, subject: string, groups: string[] = [], claims: Record<string, unknown> = {}): JwtPrincipal {
  return { kind: 'jwt', source, issuer: 'https://idp', subject, groups, attributes: { sub: subject, ...claims }, tokenHash: 'h', expiresAt: 0 };
}

export function mtlsPrincipal(spiffeId: string): MtlsPrincipal {
  const trustDomain = new URL(spiffeId).host;
  return { kind: 'mtls', source: 'spiffe', issuer: trustDomain, subject: spiffeId, groups: [], attributes: { spiffeId, trustDomain }, spiffeId, trustDomain };
}

export function apiKeyPrincipal(source: string, owner: string, groups: string[] = [], functions?: string[]): ApiKeyPrincipal {
  const base = { kind: 'apiKey' as const, source, issuer: source, subject: owner, owner, groups, keyId: 'k-1', expiresAt: 0 };
  return { ...base, attributes: { id: 'k-1', owner, groups }, ...(functions !== undefined ? { functions } : {}) };
}

export function samlPrincipal(source: string, nameId: string, attributes: Record<string, string[]> = {}, groups: string[] = []): SamlPrincipal {
  return { kind: 'saml', source, issuer: 'https://adfs.corp.test/adfs/services/trust', subject: nameId, groups, attributes, assertionId: '_a1', expiresAt: 0 };
}
