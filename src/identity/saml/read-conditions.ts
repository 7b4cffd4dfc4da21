import { fail, type Result } from '../../failure.js';
import { readInstantAttribute } from './parse-saml-instant.js';
import { SAML_ASSERTION_NS } from './saml-vocabulary.js';
import { childrenNamed, elementChildren, simpleText } from './xml-elements.js';

/** The signed Conditions (SAML core §2.5.1); absent Conditions read as no times and no restrictions. */
export interface ConditionsContent {
  readonly notBeforeMs?: number;
  readonly notOnOrAfterMs?: number;
  /** One list of Audience values per AudienceRestriction (SAML core §2.5.1.4). */
  readonly audienceRestrictions: readonly (readonly string[])[];
}

const malformed = (detail: string, internal?: string) => fail('ERR_SAML_MALFORMED', detail, internal);

function readAudiences(restriction: Element): Result<string[]> {
  const audiences: string[] = [];
  for (const audience of childrenNamed(restriction, SAML_ASSERTION_NS, 'Audience')) {
    const text = simpleText(audience);
    if (text === undefined) return malformed('an Audience has element content');
    audiences.push(text);
  }
  return { ok: true, value: audiences };
}

/**
 * Reads the Conditions of a signed assertion. A condition this service cannot evaluate makes the
 * assertion Indeterminate (SAML core §2.5.1.1), so it is refused: a custom `Condition`, and
 * `OneTimeUse` (§2.5.1.5), which needs a replay cache that a per-request verifier does not keep.
 */
export function readConditions(assertion: Element): Result<ConditionsContent> {
  const all = childrenNamed(assertion, SAML_ASSERTION_NS, 'Conditions');
  const [conditions] = all;
  if (conditions === undefined) return { ok: true, value: { audienceRestrictions: [] } };
  if (all.length > 1) return malformed('the assertion has more than one Conditions element');
  const notBefore = readInstantAttribute(conditions, 'NotBefore');
  if (!notBefore.ok) return notBefore;
  const notOnOrAfter = readInstantAttribute(conditions, 'NotOnOrAfter');
  if (!notOnOrAfter.ok) return notOnOrAfter;
  const audienceRestrictions: string[][] = [];
  for (const condition of elementChildren(conditions)) {
    const name = condition.namespaceURI === SAML_ASSERTION_NS ? condition.localName : undefined;
    if (name === 'AudienceRestriction') {
      const audiences = readAudiences(condition);
      if (!audiences.ok) return audiences;
      audienceRestrictions.push(audiences.value);
    } else if (name !== 'ProxyRestriction') {
      // ProxyRestriction (§2.5.1.6) limits what the relying party may assert onwards: nothing to check here.
      return malformed('the assertion carries a condition this service cannot enforce', condition.localName ?? '');
    }
  }
  return {
    ok: true,
    value: {
      ...(notBefore.value === undefined ? {} : { notBeforeMs: notBefore.value }),
      ...(notOnOrAfter.value === undefined ? {} : { notOnOrAfterMs: notOnOrAfter.value }),
      audienceRestrictions,
    },
  };
}
