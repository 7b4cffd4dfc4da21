import { X509Certificate } from 'node:crypto';
import { parseStrictXml, type XmlLimits } from './parse-strict-xml.js';
import { SAML_METADATA_NS, SAML_PROTOCOL_NS, XMLDSIG_NS } from './saml-vocabulary.js';
import { attributeValue, childrenNamed, isNamed, simpleText } from './xml-elements.js';

/** What the verifier needs from an identity provider's SAML metadata. */
export interface IdpMetadata {
  readonly entityId: string;
  /** PEM certificates, in document order, without duplicates. */
  readonly signingCertificates: string[];
}

/** Metadata is configuration: a problem is a sentence for the config loader, not a reason code. */
export type IdpMetadataResult = { readonly ok: true; readonly value: IdpMetadata } | { readonly ok: false; readonly problem: string };

const problem = (text: string): IdpMetadataResult => ({ ok: false, problem: text });
// Metadata is configuration, not a request: the limits only guard against a runaway file.
const METADATA_XML_LIMITS: XmlLimits = { maxDepth: 64, maxElements: 100_000, maxAttributesPerElement: 256 };
const BASE64_WITH_BREAKS = /^[A-Za-z0-9+/\s]+={0,2}\s*$/;

/** The PEM of one ds:X509Certificate (base64 DER, line breaks allowed), or a problem. */
function toPem(element: Element): { pem: string } | { problem: string } {
  const text = simpleText(element);
  if (text === undefined || !BASE64_WITH_BREAKS.test(text)) return { problem: 'an X509Certificate is not base64' };
  try {
    return { pem: new X509Certificate(Buffer.from(text.replace(/\s+/g, ''), 'base64')).toString() };
  } catch (error) {
    return { problem: `an X509Certificate is not a certificate (${error instanceof Error ? error.message : String(error)})` };
  }
}

/** SAML metadata §2.4.1.1: KeyDescriptor `use` is `signing`, `encryption`, or absent (both). */
function signingKeyDescriptors(descriptor: Element): Element[] {
  return childrenNamed(descriptor, SAML_METADATA_NS, 'KeyDescriptor').filter((key) => {
    const use = attributeValue(key, 'use');
    return use === undefined || use === 'signing';
  });
}

/**
 * Reads an identity provider's EntityDescriptor (SAML metadata §2.3.2) with an IDPSSODescriptor that
 * supports SAML 2.0 (§2.4.3): its entityID and the certificates of its signing KeyDescriptors.
 * The metadata's own signature and `validUntil` are not checked: it is trusted as configuration.
 */
export function readIdpMetadata(xml: string): IdpMetadataResult {
  const parsed = parseStrictXml(xml, METADATA_XML_LIMITS);
  if (!parsed.ok) return problem(`the metadata is not acceptable XML: ${parsed.detail}${parsed.internal ? ` (${parsed.internal})` : ''}`);
  const root = parsed.value;
  if (!isNamed(root, SAML_METADATA_NS, 'EntityDescriptor')) return problem('the metadata root is not an md:EntityDescriptor');
  const entityId = attributeValue(root, 'entityID');
  if (!entityId) return problem('the EntityDescriptor has no entityID');
  const descriptors = childrenNamed(root, SAML_METADATA_NS, 'IDPSSODescriptor').filter((descriptor) =>
    (attributeValue(descriptor, 'protocolSupportEnumeration') ?? '').split(/\s+/).includes(SAML_PROTOCOL_NS),
  );
  if (descriptors.length === 0) return problem('the metadata has no IDPSSODescriptor for SAML 2.0');
  const signingCertificates: string[] = [];
  for (const key of descriptors.flatMap(signingKeyDescriptors)) {
    for (const keyInfo of childrenNamed(key, XMLDSIG_NS, 'KeyInfo')) {
      for (const data of childrenNamed(keyInfo, XMLDSIG_NS, 'X509Data')) {
        for (const certificate of childrenNamed(data, XMLDSIG_NS, 'X509Certificate')) {
          const read = toPem(certificate);
          if ('problem' in read) return problem(read.problem);
          if (!signingCertificates.includes(read.pem)) signingCertificates.push(read.pem);
        }
      }
    }
  }
  if (signingCertificates.length === 0) return problem('the IDPSSODescriptor has no signing certificate');
  return { ok: true, value: { entityId, signingCertificates } };
}
