import { fail, type Result } from '../../failure.js';
import type { AssertionContent } from './read-assertion-content.js';
import type { ConfirmationContent } from './read-subject.js';
import { BEARER_METHOD } from './saml-vocabulary.js';
import type { SamlTrust, VerifiedAssertion } from './verify-assertion.js';

const toSeconds = (ms: number) => Math.floor(ms / 1000);

/**
 * SAML core §2.5.1.4: the assertion is addressed to us only if every AudienceRestriction names
 * one of our audiences (stricter than "some restriction does"); no restriction at all is refused too.
 */
function isForUs(restrictions: readonly (readonly string[])[], audiences: readonly string[]): boolean {
  return restrictions.length > 0 && restrictions.every((restriction) => restriction.some((audience) => audiences.includes(audience)));
}

/** SAML profiles §4.1.4.2-3: a bearer confirmation whose data window (if any) contains now. */
function findBearer(confirmations: readonly ConfirmationContent[], nowMs: number, skewMs: number): ConfirmationContent | undefined {
  return confirmations.find(
    (confirmation) =>
      confirmation.method === BEARER_METHOD &&
      (confirmation.notOnOrAfterMs === undefined || nowMs - skewMs < confirmation.notOnOrAfterMs) &&
      (confirmation.notBeforeMs === undefined || confirmation.notBeforeMs <= nowMs + skewMs),
  );
}

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b === undefined ? a : Math.min(a, b);
}

function toPublicAttributes(attributes: ReadonlyMap<string, readonly string[]>): Readonly<Record<string, readonly string[]>> {
  return Object.freeze(Object.fromEntries([...attributes].map(([name, values]) => [name, Object.freeze([...values])])));
}

/**
 * Applies the trust policy to what the identity provider signed: issuer, audience, validity window
 * with clock skew (SAML core §2.5.1.2: NotBefore ≤ now < NotOnOrAfter), a bearer confirmation, and
 * the maximum lifetime. An assertion without any NotOnOrAfter (neither on Conditions nor on the bearer
 * confirmation) would never expire: it is refused as malformed.
 */
export function checkAssertionValidity(content: AssertionContent, trust: SamlTrust, nowMs: number): Result<VerifiedAssertion> {
  const skewMs = trust.clockSkewSeconds * 1000;
  const { conditions, subject } = content;
  if (content.issuer !== trust.entityId) return fail('ERR_SAML_ISSUER', 'the SAML assertion issuer is not trusted', content.issuer.slice(0, 200));
  if (!isForUs(conditions.audienceRestrictions, trust.audiences)) {
    return fail('ERR_SAML_AUDIENCE', 'the SAML assertion is not meant for this audience');
  }
  if (content.issueInstantMs > nowMs + skewMs) return fail('ERR_SAML_NOT_YET_VALID', 'the SAML assertion was issued in the future');
  if (conditions.notBeforeMs !== undefined && conditions.notBeforeMs > nowMs + skewMs) {
    return fail('ERR_SAML_NOT_YET_VALID', 'the SAML assertion is not valid yet (NotBefore)');
  }
  if (conditions.notOnOrAfterMs !== undefined && conditions.notOnOrAfterMs <= nowMs - skewMs) {
    return fail('ERR_SAML_EXPIRED', 'the SAML assertion has expired (NotOnOrAfter)');
  }
  const bearer = findBearer(subject.confirmations, nowMs, skewMs);
  if (bearer === undefined) return fail('ERR_SAML_CONFIRMATION', 'the SAML assertion has no valid bearer subject confirmation');
  const endMs = earliest(conditions.notOnOrAfterMs, bearer.notOnOrAfterMs);
  if (endMs === undefined) return fail('ERR_SAML_MALFORMED', 'the SAML assertion has no NotOnOrAfter');
  const startMs = conditions.notBeforeMs ?? content.issueInstantMs;
  if (endMs - startMs > trust.maxLifetimeSeconds * 1000) {
    return fail('ERR_SAML_LIFETIME', `the SAML assertion lives longer than ${trust.maxLifetimeSeconds} seconds`);
  }
  const groups = trust.groupsAttribute === undefined ? [] : (content.attributes.get(trust.groupsAttribute) ?? []);
  return {
    ok: true,
    value: {
      id: content.id,
      issuer: content.issuer,
      nameId: subject.nameId,
      ...(subject.nameIdFormat === undefined ? {} : { nameIdFormat: subject.nameIdFormat }),
      groups: Object.freeze([...groups]),
      attributes: toPublicAttributes(content.attributes),
      notOnOrAfter: toSeconds(endMs),
      issueInstant: toSeconds(content.issueInstantMs),
    },
  };
}
