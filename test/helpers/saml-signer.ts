import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignedXml } from 'xml-crypto';
import type { SamlTrust } from '../../src/identity/saml/verify-assertion.js';

/** Test-only SAML fixtures: keys, assertions, their signatures (xml-crypto, the real signer) and IdP metadata. */

export const SAML_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
export const SAMLP_NS = 'urn:oasis:names:tc:SAML:2.0:protocol';
export const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
export const ALG = {
  rsaSha1: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  rsaSha512: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  sha1: 'http://www.w3.org/2000/09/xmldsig#sha1',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  sha512: 'http://www.w3.org/2001/04/xmlenc#sha512',
  excC14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  excC14nWithComments: 'http://www.w3.org/2001/10/xml-exc-c14n#WithComments',
  c14n: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
  enveloped: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
} as const;

/** The injected clock of every SAML test. */
export const SAML_NOW = Date.UTC(2030, 0, 15, 12, 0, 0);
export const IDP_ENTITY_ID = 'https://idp.example.com/saml';
export const SP_AUDIENCE = 'https://callguard.example.com';

/** An xs:dateTime in UTC (SAML core §1.3.3) `offsetSeconds` from {@link SAML_NOW}. */
export function instant(offsetSeconds: number): string {
  return new Date(SAML_NOW + offsetSeconds * 1000).toISOString();
}

/** The trust the tests verify against: {@link IDP_ENTITY_ID}, {@link SP_AUDIENCE}, 60 s skew, 1 h lifetime, `groups`. */
export function samlTrust(certificates: readonly string[], overrides: Partial<SamlTrust> = {}): SamlTrust {
  return {
    entityId: IDP_ENTITY_ID,
    audiences: [SP_AUDIENCE],
    certificates,
    clockSkewSeconds: 60,
    maxLifetimeSeconds: 3600,
    groupsAttribute: 'groups',
    ...overrides,
  };
}

export interface SamlKey {
  readonly privateKeyPem: string;
  readonly certificatePem: string;
}

/** An RSA key (node:crypto) and a self-signed certificate for it (openssl CLI). */
export function createSamlKey(name: string, modulusLength = 2048): SamlKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const dir = mkdtempSync(join(tmpdir(), 'callguard-saml-'));
  try {
    writeFileSync(join(dir, 'key.pem'), privateKeyPem);
    execFileSync('openssl', ['req', '-x509', '-key', 'key.pem', '-out', 'cert.pem', '-days', '2', '-subj', `/CN=${name}`], { cwd: dir, stdio: 'pipe' });
    return { privateKeyPem, certificatePem: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The base64 body of a PEM certificate, as ds:X509Certificate carries it. */
export function certificateBase64(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}

export const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export interface ConfirmationOptions {
  readonly method?: string;
  /** `null` omits the attribute. */
  readonly notOnOrAfter?: string | null;
  readonly notBefore?: string;
  readonly recipient?: string;
  readonly inResponseTo?: string;
}

export interface AssertionOptions {
  readonly id?: string;
  readonly version?: string;
  readonly issuer?: string;
  readonly issueInstant?: string;
  readonly nameId?: string;
  /** `null` omits the attribute. */
  readonly nameIdFormat?: string | null;
  /** Raw XML replacing the whole Subject (`''` omits it). */
  readonly subjectXml?: string;
  /** `null` omits the attribute. */
  readonly notBefore?: string | null;
  /** `null` omits the attribute. */
  readonly notOnOrAfter?: string | null;
  /** One list of audiences per AudienceRestriction; `[]` omits the restriction. */
  readonly audienceRestrictions?: readonly (readonly string[])[];
  /** Raw XML appended inside Conditions. */
  readonly extraConditions?: string;
  readonly omitConditions?: boolean;
  readonly confirmations?: readonly ConfirmationOptions[];
  readonly attributes?: Readonly<Record<string, readonly string[]>>;
  /** Raw XML appended inside the AttributeStatement. */
  readonly extraAttributeXml?: string;
  /** Raw XML appended at the end of the Assertion. */
  readonly extraAssertionXml?: string;
}

const attr = (name: string, value: string | null | undefined) => (value === null || value === undefined ? '' : ` ${name}="${escapeXml(value)}"`);

function confirmationXml(options: ConfirmationOptions): string {
  const data =
    attr('NotBefore', options.notBefore) +
    attr('NotOnOrAfter', options.notOnOrAfter === undefined ? instant(300) : options.notOnOrAfter) +
    attr('Recipient', options.recipient) +
    attr('InResponseTo', options.inResponseTo);
  return `<saml:SubjectConfirmation Method="${escapeXml(options.method ?? BEARER)}"><saml:SubjectConfirmationData${data}/></saml:SubjectConfirmation>`;
}

/** An unsigned SAML 2.0 Assertion (SAML core §2.3.3) that is valid at {@link SAML_NOW} unless told otherwise. */
export function buildAssertion(options: AssertionOptions = {}): string {
  const nameIdFormat = options.nameIdFormat === undefined ? 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress' : options.nameIdFormat;
  const confirmations = (options.confirmations ?? [{}]).map(confirmationXml).join('');
  const subject =
    options.subjectXml ??
    `<saml:Subject><saml:NameID${attr('Format', nameIdFormat)}>${escapeXml(options.nameId ?? 'alice@corp.example')}</saml:NameID>${confirmations}</saml:Subject>`;
  const restrictions = (options.audienceRestrictions ?? [[SP_AUDIENCE]])
    .map(
      (audiences) => `<saml:AudienceRestriction>${audiences.map((a) => `<saml:Audience>${escapeXml(a)}</saml:Audience>`).join('')}</saml:AudienceRestriction>`,
    )
    .join('');
  const conditions = options.omitConditions
    ? ''
    : `<saml:Conditions${attr('NotBefore', options.notBefore === undefined ? instant(-10) : options.notBefore)}${attr(
        'NotOnOrAfter',
        options.notOnOrAfter === undefined ? instant(300) : options.notOnOrAfter,
      )}>${restrictions}${options.extraConditions ?? ''}</saml:Conditions>`;
  const attributes = Object.entries(options.attributes ?? { groups: ['engineering', 'oncall'], mail: ['alice@corp.example'] })
    .map(
      ([name, values]) =>
        `<saml:Attribute Name="${escapeXml(name)}">${values.map((v) => `<saml:AttributeValue xsi:type="xs:string">${escapeXml(v)}</saml:AttributeValue>`).join('')}</saml:Attribute>`,
    )
    .join('');
  return (
    `<saml:Assertion xmlns:saml="${SAML_NS}" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"` +
    ` ID="${escapeXml(options.id ?? '_assertion1')}" Version="${escapeXml(options.version ?? '2.0')}" IssueInstant="${escapeXml(options.issueInstant ?? instant(-10))}">` +
    `<saml:Issuer>${escapeXml(options.issuer ?? IDP_ENTITY_ID)}</saml:Issuer>${subject}${conditions}` +
    `<saml:AuthnStatement AuthnInstant="${instant(-10)}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
    `<saml:AttributeStatement>${attributes}${options.extraAttributeXml ?? ''}</saml:AttributeStatement>${options.extraAssertionXml ?? ''}</saml:Assertion>`
  );
}

/** A samlp:Response (SAML core §3.3.3) around the given assertion XML. */
export function buildResponse(assertionXml: string, id = '_response1'): string {
  return (
    `<samlp:Response xmlns:samlp="${SAMLP_NS}" xmlns:saml="${SAML_NS}" ID="${id}" Version="2.0" IssueInstant="${instant(-10)}">` +
    `<saml:Issuer>${IDP_ENTITY_ID}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
    `${assertionXml}</samlp:Response>`
  );
}

export interface SignOptions {
  readonly key: SamlKey;
  readonly signatureAlgorithm?: string;
  readonly digestAlgorithm?: string;
  readonly canonicalizationAlgorithm?: string;
  readonly transforms?: readonly string[];
  /** Puts the signing key's certificate into KeyInfo (default: no KeyInfo). */
  readonly keyInfoCertificate?: string;
  /** XPath of the element the Reference covers (default: the root). */
  readonly referenceXpath?: string;
  /** XPaths of additional References. */
  readonly extraReferenceXpaths?: readonly string[];
  /** Where the Signature goes (default: right after the root's Issuer, SAML core §2.3.3). */
  readonly location?: { readonly reference: string; readonly action: 'append' | 'prepend' | 'before' | 'after' };
}

/** Signs with xml-crypto's SignedXml: an enveloped signature, as an IdP would (SAML core §5.4). */
export function signXml(xml: string, options: SignOptions): string {
  const transforms = [...(options.transforms ?? [ALG.enveloped, ALG.excC14n])];
  const signer = new SignedXml({
    privateKey: options.key.privateKeyPem,
    ...(options.keyInfoCertificate === undefined ? { getKeyInfoContent: () => null } : { publicCert: options.keyInfoCertificate }),
    signatureAlgorithm: options.signatureAlgorithm ?? ALG.rsaSha256,
    canonicalizationAlgorithm: options.canonicalizationAlgorithm ?? ALG.excC14n,
  });
  const digestAlgorithm = options.digestAlgorithm ?? ALG.sha256;
  signer.addReference({ xpath: options.referenceXpath ?? '/*', transforms, digestAlgorithm });
  for (const xpath of options.extraReferenceXpaths ?? []) signer.addReference({ xpath, transforms, digestAlgorithm });
  signer.computeSignature(xml, {
    prefix: 'ds',
    location: options.location ?? { reference: "/*/*[local-name(.)='Issuer']", action: 'after' },
  });
  return signer.getSignedXml();
}

/** {@link buildAssertion} then {@link signXml}. */
export function signedAssertion(key: SamlKey, options: AssertionOptions = {}, sign: Omit<SignOptions, 'key'> = {}): string {
  return signXml(buildAssertion(options), { ...sign, key });
}

export interface MetadataOptions {
  readonly entityId?: string;
  /** One KeyDescriptor per entry; `use: null` omits the attribute. */
  readonly keys?: readonly { readonly certificatePem: string; readonly use?: 'signing' | 'encryption' | null }[];
  readonly protocolSupportEnumeration?: string;
  /** Raw XML placed before the root element (e.g. a DOCTYPE). */
  readonly prolog?: string;
}

/** An md:EntityDescriptor with an IDPSSODescriptor (SAML metadata §2.3.2, §2.4.3). */
export function buildIdpMetadata(options: MetadataOptions = {}): string {
  const keys = (options.keys ?? [])
    .map(
      (key) =>
        `<md:KeyDescriptor${attr('use', key.use === undefined ? 'signing' : key.use)}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>\n${certificateBase64(key.certificatePem).replace(/(.{64})/g, '$1\n')}\n</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`,
    )
    .join('');
  return (
    `${options.prolog ?? '<?xml version="1.0" encoding="UTF-8"?>'}` +
    `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${escapeXml(options.entityId ?? IDP_ENTITY_ID)}">` +
    `<md:IDPSSODescriptor protocolSupportEnumeration="${escapeXml(options.protocolSupportEnumeration ?? SAMLP_NS)}">${keys}` +
    `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>` +
    `</md:IDPSSODescriptor></md:EntityDescriptor>`
  );
}
