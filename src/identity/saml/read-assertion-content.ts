import { fail, type Result } from '../../failure.js';
import { readInstantAttribute } from './parse-saml-instant.js';
import { parseStrictXml } from './parse-strict-xml.js';
import { readAttributes } from './read-attributes.js';
import { type ConditionsContent, readConditions } from './read-conditions.js';
import { readSubject, type SubjectContent } from './read-subject.js';
import { ENTITY_NAME_FORMAT, SAML_ASSERTION_NS } from './saml-vocabulary.js';
import { attributeValue, childrenNamed, isNamed, simpleText } from './xml-elements.js';

/** Everything read from the signed assertion, before the trust policy is applied. */
export interface AssertionContent {
  readonly id: string;
  readonly issuer: string;
  readonly issueInstantMs: number;
  readonly subject: SubjectContent;
  readonly conditions: ConditionsContent;
  readonly attributes: ReadonlyMap<string, readonly string[]>;
}

const malformed = (detail: string, internal?: string) => fail('ERR_SAML_MALFORMED', detail, internal);

function readIssuer(assertion: Element): Result<string> {
  const issuers = childrenNamed(assertion, SAML_ASSERTION_NS, 'Issuer');
  const [issuer] = issuers;
  if (issuer === undefined || issuers.length > 1) return malformed('the assertion must have exactly one Issuer');
  // SAML profiles §4.1.4.2: an assertion's Issuer format is omitted or the entity format.
  const format = attributeValue(issuer, 'Format');
  if (format !== undefined && format !== ENTITY_NAME_FORMAT) return fail('ERR_SAML_ISSUER', 'the assertion Issuer is not an entity ID');
  const text = simpleText(issuer);
  if (!text) return malformed('the assertion Issuer is empty or has element content');
  return { ok: true, value: text };
}

/**
 * Reads an assertion's fields from the canonical XML its signature covers, never from the
 * document as received: what is read here is exactly what the identity provider signed.
 */
export function readAssertionContent(signedXml: string, expectedId: string): Result<AssertionContent> {
  const parsed = parseStrictXml(signedXml);
  if (!parsed.ok) return parsed;
  const assertion = parsed.value;
  if (!isNamed(assertion, SAML_ASSERTION_NS, 'Assertion') || attributeValue(assertion, 'ID') !== expectedId) {
    return fail('ERR_SAML_SIGNATURE', 'the SAML assertion signature does not cover the assertion');
  }
  const issuer = readIssuer(assertion);
  if (!issuer.ok) return issuer;
  // SAML core §2.3.3: IssueInstant is required.
  const issueInstant = readInstantAttribute(assertion, 'IssueInstant');
  if (!issueInstant.ok) return issueInstant;
  if (issueInstant.value === undefined) return malformed('the assertion has no IssueInstant');
  const subject = readSubject(assertion);
  if (!subject.ok) return subject;
  const conditions = readConditions(assertion);
  if (!conditions.ok) return conditions;
  const attributes = readAttributes(assertion);
  if (!attributes.ok) return attributes;
  return {
    ok: true,
    value: {
      id: expectedId,
      issuer: issuer.value,
      issueInstantMs: issueInstant.value,
      subject: subject.value,
      conditions: conditions.value,
      attributes: attributes.value,
    },
  };
}
