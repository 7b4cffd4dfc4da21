import { hash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PeerCertificate } from '../call-attempt.js';
import type { Config } from '../config/types.js';
import { fail } from '../failure.js';
import { toApiKeyPrincipal } from '../identity/api-key/api-key-authenticator.js';
import type { Authenticator } from '../identity/authenticator.js';
import { toJwtPrincipal } from '../identity/jwt/to-jwt-principal.js';
import { toSamlPrincipal } from '../identity/saml/saml-authenticator.js';
import type { CredentialPrincipal } from '../principal.js';
import { createPeerVerifier, judgePeer, type PeerVerifier, uriSans } from '../transport/verify-peer.js';
import type { CaseCaller, CasePeer } from './load-cases.js';

/** What a case's caller becomes: the `Authorization` header that presents it, and the identity stages that yield it. */
export interface CaseIdentity {
  /** `Authorization` value for the case's credential, when it has one. */
  readonly authorization?: string;
  readonly authenticators: readonly Authenticator[];
  /** The mTLS peer Envoy would report, and the verifier that judges it. */
  readonly peer?: PeerCertificate;
  readonly peers?: PeerVerifier;
}

/** A case's credential, valid this long after `now` (a token's `exp` unless it gives one; a key's and an assertion's expiry). */
const LIFETIME_SECONDS = 300;

/**
 * The one stage `callguard test` swaps: instead of verifying a token, key or assertion, each
 * authenticator yields the principal the case describes, built by the server's own constructors
 * (toJwtPrincipal, toApiKeyPrincipal, toSamlPrincipal), so groups and claims are read as for a real
 * credential. The set mirrors the server's (same schemes, headers and stripped headers), so what is
 * removed upstream is what the server removes. A peer is judged from the facts given (judgePeer) or,
 * for a certificate file, by the server's verifier.
 */
export function caseIdentity(caller: CaseCaller | undefined, config: Config, nowMs: number): CaseIdentity {
  const principal = caller === undefined ? undefined : casePrincipal(caller, config, nowMs);
  const yields = (kind: CredentialPrincipal['kind'], scheme: string, headers: readonly string[], strip?: readonly string[]): Authenticator => ({
    kind,
    scheme,
    headers,
    ...(strip !== undefined ? { strip } : {}),
    // Reached only with the header this runner sets for the case's credential (load-cases refuses any other).
    authenticate: () =>
      principal?.kind === kind ? { ok: true, value: principal } : fail('ERR_INTERNAL', 'no credential of this kind in the case', 'callguard test: unreachable'),
    close() {},
  });
  const authenticators = [yields('jwt', 'bearer', []), yields('jwt', 'dpop', [], ['dpop'])];
  if (config.identity.saml.length > 0) authenticators.push(yields('saml', 'saml', []));
  const { apiKeys } = config.identity;
  if (apiKeys !== undefined) authenticators.push(yields('apiKey', 'apikey', apiKeys.header === undefined ? [] : [apiKeys.header]));
  const scheme = principal === undefined ? undefined : { jwt: 'Bearer', apiKey: 'ApiKey', saml: 'SAML' }[principal.kind];
  const peer = caller?.peer === undefined ? undefined : casePeer(caller.peer, config.identity.spiffe.trustDomains);
  return {
    ...(scheme !== undefined ? { authorization: `${scheme} callguard-test-case` } : {}),
    authenticators,
    ...(peer ?? {}),
  };
}

function casePrincipal(caller: CaseCaller, config: Config, nowMs: number): CredentialPrincipal | undefined {
  const now = Math.floor(nowMs / 1000);
  const { jwt, apiKey, saml } = caller;
  if (jwt !== undefined) {
    const issuer = config.identity.issuers.find((i) => i.issuer === jwt.iss);
    if (issuer === undefined) throw new TypeError(`unchecked case: issuer ${jwt.iss}`);
    const claims = { iat: now, exp: now + LIFETIME_SECONDS, ...structuredClone(jwt) };
    // Stands in for the token's hash: the same claims, the same value.
    return toJwtPrincipal(issuer, claims, hash('sha256', JSON.stringify(claims), 'base64url').slice(0, 22));
  }
  if (apiKey !== undefined) {
    const source = config.identity.apiKeys?.name;
    if (source === undefined) throw new TypeError('unchecked case: no API key store');
    return toApiKeyPrincipal(apiKey, source, nowMs + LIFETIME_SECONDS * 1000);
  }
  if (saml !== undefined) {
    const idp = config.identity.saml.find((i) => i.name === saml.idp);
    if (idp === undefined) throw new TypeError(`unchecked case: IdP ${saml.idp}`);
    const groups = idp.groupsAttribute === undefined ? [] : (saml.attributes[idp.groupsAttribute] ?? []);
    return toSamlPrincipal(idp.name, {
      id: `_callguard-test-${hash('sha256', JSON.stringify(saml), 'hex').slice(0, 16)}`,
      issuer: saml.issuer ?? idp.name,
      nameId: saml.nameId,
      groups,
      attributes: saml.attributes,
      notOnOrAfter: now + LIFETIME_SECONDS,
      issueInstant: now,
    });
  }
  return undefined;
}

function casePeer(peer: CasePeer, trustDomains: readonly string[]): { peer: PeerCertificate; peers: PeerVerifier } {
  if (peer.certificateFile !== undefined) {
    const pem = readFileSync(peer.certificateFile, 'utf8');
    // Envoy's source.principal: the first URI SAN, else the subject (as the server sees it).
    let principal = '';
    try {
      const cert = new X509Certificate(pem);
      principal = uriSans(cert.subjectAltName)[0] ?? cert.subject;
    } catch {
      // the server's verifier refuses it (ERR_PEER_INVALID)
    }
    return { peer: { principal, certificatePem: pem }, peers: createPeerVerifier(trustDomains) };
  }
  const facts = peer.certificate ?? { ca: false, uriSans: [peer.spiffeId as string] };
  const domains = new Set(trustDomains);
  return { peer: { principal: facts.uriSans[0] ?? '' }, peers: { verify: () => judgePeer(facts, domains) } };
}
