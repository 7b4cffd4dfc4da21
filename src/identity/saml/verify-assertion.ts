import type { Result } from '../../failure.js';
import { checkAssertionValidity } from './check-assertion-validity.js';
import { checkSignatureShape } from './check-signature-shape.js';
import { parseStrictXml } from './parse-strict-xml.js';
import { readAssertionContent } from './read-assertion-content.js';
import { verifyXmlSignature } from './verify-xml-signature.js';

/** What this service trusts of one SAML identity provider (from its metadata and our config). */
export interface SamlTrust {
  /** The expected `<saml:Issuer>`, compared exactly. */
  readonly entityId: string;
  /** Every AudienceRestriction must name one of these. */
  readonly audiences: readonly string[];
  /** PEM signing certificates of the identity provider; KeyInfo in a message is never trusted. */
  readonly certificates: readonly string[];
  readonly clockSkewSeconds: number;
  /** NotOnOrAfter − (NotBefore ?? IssueInstant) must not exceed this. */
  readonly maxLifetimeSeconds: number;
  /** The Attribute Name whose AttributeValues are the caller's groups. */
  readonly groupsAttribute?: string;
}

/** A SAML assertion whose signature, issuer, audience, times and bearer confirmation all check out. */
export interface VerifiedAssertion {
  readonly id: string;
  readonly issuer: string;
  readonly nameId: string;
  readonly nameIdFormat?: string;
  readonly groups: readonly string[];
  readonly attributes: Readonly<Record<string, readonly string[]>>;
  /** Seconds since the epoch: the earliest of Conditions/@NotOnOrAfter and the bearer SubjectConfirmationData/@NotOnOrAfter. */
  readonly notOnOrAfter: number;
  /** Seconds since the epoch. */
  readonly issueInstant: number;
}

/**
 * Verifies a bare, signed SAML 2.0 Assertion presented as a bearer credential. Never throws.
 *
 * Signature wrapping (XSW) is defeated twice: the document must have the one shape in which the
 * signed element and the element read can only be the same (one Assertion at the root, one
 * enveloped signature, one Reference to its ID), and every field is read from the canonical XML
 * that xml-crypto verified, not from the document as received.
 */
export function verifySamlAssertion(xml: string, trust: SamlTrust, nowMs: number): Result<VerifiedAssertion> {
  const root = parseStrictXml(xml);
  if (!root.ok) return root;
  const shape = checkSignatureShape(root.value);
  if (!shape.ok) return shape;
  const signed = verifyXmlSignature(xml, shape.value, trust.certificates);
  if (!signed.ok) return signed;
  const content = readAssertionContent(signed.value, shape.value.id);
  if (!content.ok) return content;
  return checkAssertionValidity(content.value, trust, nowMs);
}
