import type { IdentityConfig } from '../config/types.js';
import type { CredentialKind } from '../principal.js';

/** An identity source a rule can name, and where it is configured. */
export interface IdentitySource {
  readonly kind: CredentialKind;
  /** JSON pointer of its entry in the config (for problems). */
  readonly path: string;
}

/**
 * Every configured identity source by name: JWT issuers, SAML identity providers, the API key store. Names are shared by
 * `allow` rules (`issuer: <name>`), so a name used twice is listed in `duplicates`.
 */
export function identitySources(identity: IdentityConfig): { sources: Map<string, IdentitySource>; duplicates: { name: string; path: string }[] } {
  const sources = new Map<string, IdentitySource>();
  const duplicates: { name: string; path: string }[] = [];
  const add = (name: string, source: IdentitySource): void => {
    if (sources.has(name)) duplicates.push({ name, path: `${source.path}/name` });
    else sources.set(name, source);
  };
  identity.issuers.forEach((issuer, i) => {
    add(issuer.name, { kind: 'jwt', path: `/identity/issuers/${i}` });
  });
  identity.saml.forEach((idp, i) => {
    add(idp.name, { kind: 'saml', path: `/identity/saml/${i}` });
  });
  if (identity.apiKeys !== undefined) add(identity.apiKeys.name, { kind: 'apiKey', path: '/identity/apiKeys' });
  return { sources, duplicates };
}

/** Name → kind, as {@link compilePolicy} wants it. */
export function sourceKinds(identity: IdentityConfig): Map<string, CredentialKind> {
  return new Map([...identitySources(identity).sources].map(([name, source]) => [name, source.kind]));
}
