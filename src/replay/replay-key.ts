import type { CredentialPrincipal } from '../principal.js';

/**
 * What makes a credential single-use: a JWT's `iss` and `jti` (RFC 7519 §4.1.7: unique per issuer), a
 * SAML assertion's Issuer and ID (SAML core §1.3.4). An API key has none: it is meant to be reused.
 */
export function replayKey(credential: CredentialPrincipal): string | undefined {
  switch (credential.kind) {
    case 'jwt':
      return credential.jti === undefined ? undefined : `jwt ${credential.issuer} ${credential.jti}`;
    case 'saml':
      return `saml ${credential.issuer} ${credential.assertionId}`;
    default:
      return undefined;
  }
}
