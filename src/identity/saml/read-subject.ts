import { fail, type Result } from '../../failure.js';
import { readInstantAttribute } from './parse-saml-instant.js';
import { SAML_ASSERTION_NS } from './saml-vocabulary.js';
import { attributeValue, childrenNamed, simpleText } from './xml-elements.js';

/** One SubjectConfirmation (SAML core §2.4.1.1) with the times of its SubjectConfirmationData (§2.4.1.2). */
export interface ConfirmationContent {
  readonly method: string;
  readonly notBeforeMs?: number;
  readonly notOnOrAfterMs?: number;
}

/** The signed Subject (SAML core §2.4.1): who the assertion is about, and how a presenter may confirm it. */
export interface SubjectContent {
  readonly nameId: string;
  readonly nameIdFormat?: string;
  readonly confirmations: readonly ConfirmationContent[];
}

const malformed = (detail: string) => fail('ERR_SAML_MALFORMED', detail);

function readConfirmation(confirmation: Element): Result<ConfirmationContent> {
  const method = attributeValue(confirmation, 'Method');
  if (!method) return malformed('a SubjectConfirmation has no Method');
  const data = childrenNamed(confirmation, SAML_ASSERTION_NS, 'SubjectConfirmationData');
  const [first] = data;
  if (first === undefined) return { ok: true, value: { method } };
  if (data.length > 1) return malformed('a SubjectConfirmation has more than one SubjectConfirmationData');
  const notBefore = readInstantAttribute(first, 'NotBefore');
  if (!notBefore.ok) return notBefore;
  const notOnOrAfter = readInstantAttribute(first, 'NotOnOrAfter');
  if (!notOnOrAfter.ok) return notOnOrAfter;
  return {
    ok: true,
    value: {
      method,
      ...(notBefore.value === undefined ? {} : { notBeforeMs: notBefore.value }),
      ...(notOnOrAfter.value === undefined ? {} : { notOnOrAfterMs: notOnOrAfter.value }),
    },
  };
}

/**
 * Reads the Subject of a signed assertion. The NameID is the full character content of the element
 * (a comment cannot cut it short) and must be plain text; BaseID and EncryptedID are not supported.
 */
export function readSubject(assertion: Element): Result<SubjectContent> {
  const subjects = childrenNamed(assertion, SAML_ASSERTION_NS, 'Subject');
  const [subject] = subjects;
  if (subject === undefined || subjects.length > 1) return malformed('the assertion must have exactly one Subject');
  const nameIds = childrenNamed(subject, SAML_ASSERTION_NS, 'NameID');
  const [nameIdElement] = nameIds;
  if (nameIdElement === undefined || nameIds.length > 1) return malformed('the assertion Subject must have exactly one NameID');
  const nameId = simpleText(nameIdElement);
  if (nameId === undefined) return malformed('the NameID has element content');
  if (nameId === '') return malformed('the NameID is empty');
  const confirmations: ConfirmationContent[] = [];
  for (const element of childrenNamed(subject, SAML_ASSERTION_NS, 'SubjectConfirmation')) {
    const confirmation = readConfirmation(element);
    if (!confirmation.ok) return confirmation;
    confirmations.push(confirmation.value);
  }
  const nameIdFormat = attributeValue(nameIdElement, 'Format');
  return { ok: true, value: { nameId, ...(nameIdFormat === undefined ? {} : { nameIdFormat }), confirmations } };
}
