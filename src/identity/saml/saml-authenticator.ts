import type { IdentityConfig, SamlIdpConfig } from '../../config/types.js';
import { ConfigError, type ConfigProblem } from '../../errors.js';
import { type Failure, fail } from '../../failure.js';
import type { SamlPrincipal } from '../../principal.js';
import type { Authenticator, AuthResult } from '../authenticator.js';
import { createCredentialCache } from '../credential-cache.js';
import type { IdentityEvent } from '../identity-event.js';
import { decodeSamlCredential } from './decode-saml-credential.js';
import { createIdpMetadataSource, type IdpMetadataSource } from './idp-metadata-source.js';
import { parseStrictXml } from './parse-strict-xml.js';
import { SAML_ASSERTION_NS } from './saml-vocabulary.js';
import { type VerifiedAssertion, verifySamlAssertion } from './verify-assertion.js';
import { childrenNamed, simpleText } from './xml-elements.js';

export interface SamlAuthenticatorDeps {
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
  readonly onEvent?: (event: IdentityEvent) => void;
  readonly configFile?: string;
}

interface TrustedIdp {
  readonly config: SamlIdpConfig;
  readonly metadata: IdpMetadataSource;
}

const UNTRUSTED_ISSUER = fail('ERR_SAML_ISSUER', 'the SAML assertion issuer is not trusted');

/**
 * SAML 2.0 assertions as bearer credentials: `Authorization: SAML <base64 of a signed Assertion>`.
 * The assertion is verified against its IdP's metadata (see verifySamlAssertion); a verified one is
 * cached until its NotOnOrAfter (at most 5 minutes), like a JWT. A signature that does not verify
 * makes the IdP's metadata be refetched (at most once per cooldown) and the assertion checked again,
 * so a signing-key rollover needs no restart. Undefined when no IdP is configured.
 */
export async function createSamlAuthenticator(identity: IdentityConfig, deps: SamlAuthenticatorDeps = {}): Promise<Authenticator | undefined> {
  if (identity.saml.length === 0) return undefined;
  const now = deps.now ?? Date.now;
  // A throwing listener must not break a background refresh (its rejection would go unhandled).
  const onEvent = (event: IdentityEvent): void => {
    try {
      deps.onEvent?.(event);
    } catch {
      // the listener's problem
    }
  };
  const configFile = deps.configFile ?? '<config>';
  const built = await Promise.all(
    identity.saml.map((idp, i) => createIdpMetadataSource(idp, `/identity/saml/${i}`, configFile, { now, fetch: deps.fetch ?? fetch, onEvent })),
  );
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
  const cache = createCredentialCache<SamlPrincipal>(identity.tokenCacheSize, now);

  /**
   * Which IdP's keys to verify with: the only one, or the one whose entity ID the root's Issuer names.
   * Read from the strictly parsed (bounded) document, unverified; the verifier compares the signed
   * Issuer with that IdP's entity ID again, as a JWT's `iss` is checked again after its signature.
   */
  function choose(xml: string): TrustedIdp | Failure {
    if (idps.length === 1) return idps[0] as TrustedIdp;
    const root = parseStrictXml(xml);
    if (!root.ok) return root;
    const [issuerElement] = childrenNamed(root.value, SAML_ASSERTION_NS, 'Issuer');
    const issuer = issuerElement === undefined ? undefined : simpleText(issuerElement);
    return idps.find((candidate) => candidate.metadata.entityId() === issuer) ?? UNTRUSTED_ISSUER;
  }

  function verifyWith(idp: TrustedIdp, xml: string): AuthResult {
    const metadata = idp.metadata.current();
    if (metadata === undefined)
      return fail('ERR_KEYS_UNAVAILABLE', "the identity provider's signing keys are unavailable", `SAML IdP ${idp.config.name}: no current metadata`);
    const verified = verifySamlAssertion(
      xml,
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
    return verified.ok ? { ok: true, value: toSamlPrincipal(idp.config.name, verified.value) } : verified;
  }

  function authenticateUncached(credential: string): AuthResult | Promise<AuthResult> {
    const decoded = decodeSamlCredential(credential, maxBytes);
    if (!decoded.ok) return decoded;
    const idp = choose(decoded.value);
    if ('ok' in idp) return idp;
    if (Buffer.byteLength(decoded.value) > idp.config.maxAssertionBytes) {
      return fail('ERR_SAML_MALFORMED', `the SAML assertion is larger than ${idp.config.maxAssertionBytes} bytes`);
    }
    const result = verifyWith(idp, decoded.value);
    const remember = (outcome: AuthResult): AuthResult => {
      if (outcome.ok) cache.set(credential, outcome.value as SamlPrincipal);
      return outcome;
    };
    if (result.ok || result.code !== 'ERR_SAML_SIGNATURE') return remember(result);
    return idp.metadata.refetchAfterFailure().then((changed) => remember(changed ? verifyWith(idp, decoded.value) : result));
  }

  return {
    kind: 'saml',
    scheme: 'saml',
    headers: [],
    authenticate(credential) {
      // The boundary: whatever a library does with hostile XML, the caller gets a coded denial.
      try {
        const hit = cache.get(credential);
        if (hit !== undefined) return { ok: true, value: hit };
        const result = authenticateUncached(credential);
        return result instanceof Promise ? result.catch(internalFailure) : result;
      } catch (err) {
        return internalFailure(err);
      }
    },
    keySources: () => idps.flatMap((idp) => idp.metadata.status() ?? []),
    cacheStats: () => ({ hits: cache.hits, misses: cache.misses }),
    close,
  };
}

function internalFailure(err: unknown): Failure {
  return fail('ERR_INTERNAL', 'the SAML assertion could not be verified', err instanceof Error ? `${err.name}: ${err.message}` : String(err));
}

/** The principal a verified assertion stands for (`callguard test` builds a case's SAML caller with it). */
export function toSamlPrincipal(source: string, assertion: VerifiedAssertion): SamlPrincipal {
  // Own properties only, whatever the attribute names (an attribute named `__proto__` stays an attribute).
  const attributes = Object.freeze(Object.fromEntries(Object.entries(assertion.attributes).map(([name, values]) => [name, Object.freeze([...values])])));
  return Object.freeze({
    kind: 'saml',
    source,
    issuer: assertion.issuer,
    subject: assertion.nameId,
    groups: Object.freeze([...assertion.groups]),
    attributes,
    assertionId: assertion.id,
    expiresAt: assertion.notOnOrAfter,
  });
}
