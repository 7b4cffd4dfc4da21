import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ReasonCode } from '../../../../src/errors.js';
import { checkSignatureShape } from '../../../../src/identity/saml/check-signature-shape.js';
import { parseStrictXml } from '../../../../src/identity/saml/parse-strict-xml.js';
import { readAssertionContent } from '../../../../src/identity/saml/read-assertion-content.js';
import { verifySamlAssertion } from '../../../../src/identity/saml/verify-assertion.js';
import { verifyXmlSignature } from '../../../../src/identity/saml/verify-xml-signature.js';
import { ALG, createSamlKey, SAML_NOW, type SamlKey, samlTrust, signedAssertion } from '../../../helpers/saml-signer.js';

/**
 * Signature wrapping (XSW): "On Breaking SAML: Be Whoever You Want to Be" (Somorovsky et al., USENIX
 * Security 2012) and SAML Raider's XSW1–XSW8. Those wrap a samlp:Response; a bearer credential here is a
 * bare Assertion, so each variant is adapted: the evil assertion becomes the root and the signed original
 * is hidden where the variant hides it (Signature/Object, a sibling-like child, Advice, Extensions).
 */

const DSIG = 'http://www.w3.org/2000/09/xmldsig#';
const SAML = 'urn:oasis:names:tc:SAML:2.0:assertion';
const SAMLP = 'urn:oasis:names:tc:SAML:2.0:protocol';
const EVIL = 'admin@corp.example';

let idp: SamlKey;
let signed: string;

beforeAll(() => {
  idp = createSamlKey('idp');
  signed = signedAssertion(idp, { nameId: 'alice@corp.example' });
});

const parse = (xml: string) => new DOMParser().parseFromString(xml, 'application/xml');
const serialize = (node: Node) => new XMLSerializer().serializeToString(node);
const child = (parent: Element, ns: string, name: string) => parent.getElementsByTagNameNS(ns, name).item(0) as Element;

/** The signed original as a DOM the variant can take apart. */
function original(): { doc: Document; signedRoot: Element; signature: Element } {
  const doc = parse(signed);
  const signedRoot = doc.documentElement as Element;
  return { doc, signedRoot, signature: child(signedRoot, DSIG, 'Signature') };
}

/** An unsigned copy of the original claiming to be {@link EVIL}, with the given ID. */
function evilCopy(doc: Document, signedRoot: Element, id: string): Element {
  const evil = signedRoot.cloneNode(true) as Element;
  const signature = child(evil, DSIG, 'Signature');
  evil.removeChild(signature);
  evil.setAttribute('ID', id);
  const nameId = child(evil, SAML, 'NameID');
  while (nameId.firstChild) nameId.removeChild(nameId.firstChild);
  nameId.appendChild(doc.createTextNode(EVIL));
  return evil;
}

/** Inserts `node` right after the Issuer of `assertion`, where the schema puts ds:Signature. */
function afterIssuer(assertion: Element, node: Node): void {
  const issuer = child(assertion, SAML, 'Issuer');
  assertion.insertBefore(node, issuer.nextSibling);
}

function withObject(doc: Document, signature: Element, content: Node): Element {
  const object = doc.createElementNS(DSIG, 'ds:Object');
  object.appendChild(content);
  signature.appendChild(object);
  return signature;
}

interface WrappingCase {
  readonly name: string;
  readonly build: () => string;
  readonly code: ReasonCode;
}

const variants: WrappingCase[] = [
  {
    // XSW1: the evil root carries a copy of the signature; the signed original hides in Signature/Object.
    name: 'XSW1: signed original inside the copied Signature, evil root with a new ID',
    build: () => {
      const { doc, signedRoot, signature } = original();
      const evil = evilCopy(doc, signedRoot, '_evil');
      afterIssuer(evil, withObject(doc, signature.cloneNode(true) as Element, signedRoot.cloneNode(true)));
      return serialize(evil);
    },
    code: 'ERR_SAML_MALFORMED',
  },
  {
    // XSW2: as XSW1, but the original is a detached sibling: here the last child of the evil root.
    name: 'XSW2: signature moved to the evil root, signed original appended as its child',
    build: () => {
      const { doc, signedRoot, signature } = original();
      const evil = evilCopy(doc, signedRoot, '_evil');
      afterIssuer(evil, signature.cloneNode(true));
      evil.appendChild(signedRoot.cloneNode(true));
      return serialize(evil);
    },
    code: 'ERR_SAML_MALFORMED',
  },
  {
    // XSW3: an evil assertion with the same ID ahead of the signed one; here the original goes into Advice.
    name: 'XSW3: evil root with the same ID, signed original inside saml:Advice',
    build: () => {
      const { doc, signedRoot } = original();
      const evil = evilCopy(doc, signedRoot, '_assertion1');
      const advice = doc.createElementNS(SAML, 'saml:Advice');
      advice.appendChild(signedRoot.cloneNode(true));
      evil.appendChild(advice);
      return serialize(evil);
    },
    code: 'ERR_SAML_MALFORMED',
  },
  {
    // XSW4: the evil assertion wraps the signed original as a direct child.
    name: 'XSW4: evil root wrapping the signed original',
    build: () => {
      const { doc, signedRoot } = original();
      const evil = evilCopy(doc, signedRoot, '_evil');
      afterIssuer(evil, signedRoot.cloneNode(true));
      return serialize(evil);
    },
    code: 'ERR_SAML_MALFORMED',
  },
  {
    // XSW5: the evil root takes the original's ID and signature; the unsigned original is appended.
    name: "XSW5: evil root with the original's ID and Signature, original appended without it",
    build: () => {
      const { doc, signedRoot, signature } = original();
      const evil = evilCopy(doc, signedRoot, '_assertion1');
      afterIssuer(evil, signature.cloneNode(true));
      const stripped = signedRoot.cloneNode(true) as Element;
      stripped.removeChild(child(stripped, DSIG, 'Signature'));
      evil.appendChild(stripped);
      return serialize(evil);
    },
    code: 'ERR_SAML_MALFORMED',
  },
  {
    // XSW6: the evil root takes the signature; the signed original (with its signature) sits in its Object.
    name: "XSW6: evil root with the original's ID, signed original inside Signature/Object",
    build: () => {
      const { doc, signedRoot, signature } = original();
      const evil = evilCopy(doc, signedRoot, '_assertion1');
      afterIssuer(evil, withObject(doc, signature.cloneNode(true) as Element, signedRoot.cloneNode(true)));
      return serialize(evil);
    },
    code: 'ERR_SAML_MALFORMED',
  },
  {
    // XSW7: the signed original hides in an Extensions element, which schemas let hold anything.
    name: 'XSW7: signed original inside samlp:Extensions of the evil root',
    build: () => {
      const { doc, signedRoot } = original();
      const evil = evilCopy(doc, signedRoot, '_evil');
      const extensions = doc.createElementNS(SAMLP, 'samlp:Extensions');
      extensions.appendChild(signedRoot.cloneNode(true));
      evil.appendChild(extensions);
      return serialize(evil);
    },
    code: 'ERR_SAML_MALFORMED',
  },
  {
    // XSW8: as XSW6, but the hidden original loses its own Signature (the Reference still finds it by ID).
    name: 'XSW8: evil root with the Signature, original without its Signature inside Signature/Object',
    build: () => {
      const { doc, signedRoot, signature } = original();
      const evil = evilCopy(doc, signedRoot, '_evil');
      const stripped = signedRoot.cloneNode(true) as Element;
      stripped.removeChild(child(stripped, DSIG, 'Signature'));
      afterIssuer(evil, withObject(doc, signature.cloneNode(true) as Element, stripped));
      return serialize(evil);
    },
    code: 'ERR_SAML_MALFORMED',
  },
  {
    name: 'an original renamed into a foreign namespace (a look-alike Assertion)',
    build: () => {
      const { doc, signedRoot, signature } = original();
      const evil = evilCopy(doc, signedRoot, '_evil');
      afterIssuer(evil, signature.cloneNode(true));
      const lookalike = doc.createElementNS('urn:evil', 'x:Assertion');
      lookalike.setAttribute('ID', '_assertion1');
      evil.appendChild(lookalike);
      return serialize(evil);
    },
    code: 'ERR_SAML_MALFORMED',
  },
  {
    name: 'a second element carrying the signed ID',
    build: () => {
      const { doc } = original();
      const root = doc.documentElement as Element;
      const decoy = doc.createElementNS(SAML, 'saml:Advice');
      decoy.setAttribute('Id', '_assertion1');
      root.appendChild(decoy);
      return serialize(doc);
    },
    code: 'ERR_SAML_MALFORMED',
  },
  {
    // xml-crypto alone would accept this: an Object is not covered by SignedInfo.
    name: 'a ds:Object with an evil Subject appended to the genuine Signature',
    build: () => {
      const { doc, signedRoot, signature } = original();
      withObject(doc, signature, child(evilCopy(doc, signedRoot, '_x'), SAML, 'Subject'));
      return serialize(doc);
    },
    code: 'ERR_SAML_SIGNATURE',
  },
  {
    name: 'a copy of the Signature inside saml:Advice',
    build: () => {
      const { doc, signedRoot, signature } = original();
      signedRoot.appendChild(doc.createElementNS(SAML, 'saml:Advice')).appendChild(signature.cloneNode(true));
      return serialize(doc);
    },
    code: 'ERR_SAML_MALFORMED',
  },
  {
    name: 'a second Subject prepended inside the signed assertion',
    build: () => {
      const { doc, signedRoot } = original();
      const evilSubject = child(evilCopy(doc, signedRoot, '_x'), SAML, 'Subject');
      signedRoot.insertBefore(evilSubject, child(signedRoot, SAML, 'Subject'));
      return serialize(doc);
    },
    code: 'ERR_SAML_SIGNATURE',
  },
];

describe('verifySamlAssertion: signature wrapping', () => {
  it.each(variants)('denies $name with $code', ({ build, code }) => {
    const result = verifySamlAssertion(build(), samlTrust([idp.certificatePem]), SAML_NOW);
    expect(result.ok ? 'ok' : result.code).toBe(code);
    expect(JSON.stringify(result)).not.toContain(EVIL);
  });

  it('reads only signed content even where the shape checks were bypassed (second line of defence)', () => {
    // XSW7/XSW8 shape: xml-crypto resolves the Reference to the hidden original, so the signed XML is Alice's.
    const { doc, signedRoot, signature } = original();
    const evil = evilCopy(doc, signedRoot, '_evil');
    const hidden = signedRoot.cloneNode(true) as Element;
    hidden.removeChild(child(hidden, DSIG, 'Signature'));
    evil.appendChild(doc.createElementNS(SAMLP, 'samlp:Extensions')).appendChild(hidden);
    afterIssuer(evil, signature.cloneNode(true));
    const xml = serialize(evil);
    const root = parseStrictXml(xml);
    expect(root.ok).toBe(true);
    if (!root.ok) return;
    // The honest shape check refuses this document …
    expect(checkSignatureShape(root.value).ok).toBe(false);
    // … and if it had not, the verified bytes would still be the original's, not the evil root's.
    const rootSignature = root.value.getElementsByTagNameNS(DSIG, 'Signature').item(0) as Element;
    const signedXml = verifyXmlSignature(xml, { id: '_assertion1', signature: rootSignature, signatureAlgorithm: ALG.rsaSha256 }, [idp.certificatePem]);
    expect(signedXml.ok ? 'ok' : signedXml.code).toBe('ok');
    if (!signedXml.ok) return;
    const content = readAssertionContent(signedXml.value, '_assertion1');
    expect(content.ok && content.value.subject.nameId).toBe('alice@corp.example');
  });
});

describe('verifySamlAssertion: comment injection in NameID', () => {
  // The IdP signed `admin@corp.com.evil.com`; a comment inserted afterwards must not shorten it to admin@corp.com.
  const signedName = 'admin@corp.com.evil.com';
  it.each([
    { name: 'an empty comment', inject: 'admin@corp.com<!---->.evil.com' },
    { name: 'a comment with text', inject: 'admin@corp.com<!-- x -->.evil.com' },
    { name: 'an empty CDATA section', inject: 'admin@corp.com<![CDATA[]]>.evil.com' },
    { name: 'two comments', inject: 'admin<!---->@corp.com<!---->.evil.com' },
  ])('with $name the nameId is the full signed name', ({ inject }) => {
    const xml = signedAssertion(idp, { nameId: signedName }).replace(`>${signedName}<`, `>${inject}<`);
    expect(xml).toContain(inject);
    const result = verifySamlAssertion(xml, samlTrust([idp.certificatePem]), SAML_NOW);
    expect(result.ok ? 'ok' : result.code).toBe('ok');
    expect(result.ok && result.value.nameId).toBe(signedName);
  });

  it('a comment in the Issuer does not change the issuer compared', () => {
    const xml = signedAssertion(idp).replace('https://idp.example.com/saml</saml:Issuer>', 'https://idp.example.com<!---->/saml</saml:Issuer>');
    const result = verifySamlAssertion(xml, samlTrust([idp.certificatePem]), SAML_NOW);
    expect(result.ok && result.value.issuer).toBe('https://idp.example.com/saml');
  });
});
