import type { IdentityConfig, SamlIdpConfig } from '../../config/types.js';
import { ConfigError, type ConfigProblem } from '../../errors.js';
import { fail, type Failure } from '../../failure.js';
import type { SamlPrincipal } from '../../principal.js';
import type { Authenticator, AuthResult } from '../authenticator.js';
import { createTokenCache } from '../jwt/token-cache.js';
import { decodeSamlCredential } from './decode-saml-credential.js';
import { createIdpMetadataSource, type IdpMetadataSource, type MetadataSourceDeps } from './idp-metadata-source.js';
import { type VerifiedAssertion, verifySamlAssertion } from './verify-assertion.js';

export interface SamlAuthenticatorDeps {
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
  readonly onEvent?: MetadataSourceDeps['onEvent'];
  readonly configFile?: string;
}

interface TrustedIdp {
  readonly config: SamlIdpConfig;
  readonly metadata: IdpMetadataSource;
}

// The Issuer element's text, read unverified and only to choose which IdP's keys to verify with; the
// verifier compares the signed Issuer with that IdP's entity ID again (as with a JWT's `iss`).
const ISSUER_PEEK = /<(?:[A-Za-z_][\w.-]*:)?Issuer\b[^>]*>([^<]{1,1024})<\/(?:[A-Za-z_][\w.-]*:)?Issuer>/;

/**
 * SAML 2.0 assertions as bearer credentials: `Authorization: SAML <base64 of a signed Assertion>`.
 * The assertion is verified against its IdP's metadata (see verifySamlAssertion); a verified one is
 * cached until its NotOnOrAfter (at most 5 minutes), like a JWT. Undefined when no IdP is configured.
 */
export async function createSamlAuthenticator(identity: IdentityConfig, deps: SamlAuthenticatorDeps = {}): Promise<Authenticator | undefined> {
  if (identity.saml.length === 0) return undefined;
  const now = deps.now ?? Date.now;
  const sourceDeps: MetadataSourceDeps = { now, fetch: deps.fetch ?? fetch, onEvent: (e) => deps.onEvent?.(e) };
  const configFile = deps.configFile ?? '<config>';
  const built = await Promise.all(identity.saml.map((idp, i) => createIdpMetadataSource(idp, `/identity/saml/${i}`, configFile, sourceDeps)));
  const problems: ConfigProblem[] = [];
  const idps: TrustedIdp[] = [];
  built.forEach((result, i) => {
    if (Array.isArray(result)) problems.push(...result);
    else idps.push({ config: identity.saml[i] as SamlIdpConfig, metadata: result });
  });
  const close = (): void => {
    for (const idp of idps) idp.metadata.close();
  };
  if (problems.length > 0) {
    close();
    throw new ConfigError(problems);
  }
  const maxBytes = Math.max(...identity.saml.map((idp) => idp.maxAssertionBytes));
  const cache = createTokenCache<SamlPrincipal>(identity.tokenCacheSize, now);

  function choose(xml: string): TrustedIdp | Failure {
    if (idps.length === 1) return idps[0] as TrustedIdp;
    const issuer = ISSUER_PEEK.exec(xml)?.[1]?.trim();
    const idp = idps.find((candidate) => candidate.metadata.current()?.entityId === issuer);
    return idp ?? fail('ERR_SAML_ISSUER', 'the SAML assertion issuer is not trusted');
  }

  return {
    kind: 'saml',
    scheme: 'saml',
    headers: [],
    authenticate(credential): AuthResult {
      const hit = cache.get(credential);
      if (hit !== undefined) return { ok: true, value: hit };
      const decoded = decodeSamlCredential(credential, maxBytes);
      if (!decoded.ok) return decoded;
      const idp = choose(decoded.value);
      if ('ok' in idp) return idp;
      if (Buffer.byteLength(decoded.value) > idp.config.maxAssertionBytes) {
        return fail('ERR_SAML_MALFORMED', `the SAML assertion is larger than ${idp.config.maxAssertionBytes} bytes`);
      }
      const metadata = idp.metadata.current();
      if (metadata === undefined) return fail('ERR_KEYS_UNAVAILABLE', "the identity provider's signing keys are unavailable", `SAML IdP ${idp.config.name}: no current metadata`);
      const verified = verifySamlAssertion(
        decoded.value,
        {
          entityId: metadata.entityId,
          audiences: idp.config.audiences,
          certificates: metadata.signingCertificates,
          clockSkewSeconds: identity.clockSkewSeconds,
          maxLifetimeSeconds: idp.config.maxLifetimeSeconds,
          ...(idp.config.groupsAttribute !== undefined ? { groupsAttribute: idp.config.groupsAttribute } : {}),
        },
        now(),
      );
      if (!verified.ok) return verified;
      const principal = toSamlPrincipal(idp.config.name, verified.value);
      cache.set(credential, principal);
      return { ok: true, value: principal };
    },
    close,
  };
}

function toSamlPrincipal(source: string, assertion: VerifiedAssertion): SamlPrincipal {
  const attributes: Record<string, readonly string[]> = {};
  for (const [name, values] of Object.entries(assertion.attributes)) attributes[name] = Object.freeze([...values]);
  return Object.freeze({
    kind: 'saml',
    source,
    issuer: assertion.issuer,
    subject: assertion.nameId,
    groups: Object.freeze([...assertion.groups]),
    attributes: Object.freeze(attributes),
    assertionId: assertion.id,
    expiresAt: assertion.notOnOrAfter,
  });
}
