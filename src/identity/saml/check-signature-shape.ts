import { fail, type Result } from '../../failure.js';
import { DIGEST_ALGORITHMS, ENVELOPED_SIGNATURE, EXC_C14N, SAML_ASSERTION_NS, SIGNATURE_ALGORITHMS, XMLDSIG_NS } from './saml-vocabulary.js';
import { allElements, attributeValue, elementChildren, isNamed } from './xml-elements.js';

/** What the structural checks learned about the one signature the verifier will accept. */
export interface SignatureShape {
  /** The root Assertion's `ID`, which the one Reference points at. */
  readonly id: string;
  readonly signature: Element;
  readonly signatureAlgorithm: string;
}

// xs:ID is an NCName (SAML core §1.3.4); ASCII only, and never a quote that could reach an XPath.
const XML_ID = /^[A-Za-z_][A-Za-z0-9_.-]{0,255}$/;
// xml-crypto resolves a same-document reference by any attribute with one of these local names.
const ID_ATTRIBUTE_NAMES: ReadonlySet<string> = new Set(['ID', 'Id', 'id']);
// xml-crypto finds these by local name anywhere below Signature (`.//*[local-name(.)=…]`).
const LOOKED_UP_ANYWHERE: ReadonlySet<string> = new Set(['SignedInfo', 'CanonicalizationMethod', 'SignatureMethod', 'SignatureValue', 'KeyInfo', 'Reference']);

const malformed = (detail: string, internal?: string) => fail('ERR_SAML_MALFORMED', detail, internal);
const unsigned = (detail: string, internal?: string) => fail('ERR_SAML_SIGNATURE', detail, internal);

/** Counts, over the whole document, what signature wrapping needs more than one of. */
function checkUniqueness(root: Element, id: string): Result<Element> {
  let assertions = 0;
  let idHolders = 0;
  const signatures: Element[] = [];
  for (const element of allElements(root)) {
    // Any namespace: a look-alike Assertion in a foreign namespace is a wrapping attempt as well.
    if (element.localName === 'Assertion') assertions++;
    if (isNamed(element, XMLDSIG_NS, 'Signature')) signatures.push(element);
    for (let index = 0; index < element.attributes.length; index++) {
      const attribute = element.attributes.item(index);
      if (attribute != null && ID_ATTRIBUTE_NAMES.has(attribute.localName ?? attribute.name) && attribute.value === id) idHolders++;
    }
  }
  if (assertions !== 1) return malformed('the credential must hold exactly one SAML assertion', `${assertions} Assertion elements`);
  if (idHolders !== 1) return malformed('the assertion ID is not unique in the document', `${idHolders} elements carry it`);
  const [signature] = signatures;
  if (signature === undefined) return unsigned('the SAML assertion is not signed');
  if (signatures.length > 1) return malformed('the credential must hold exactly one signature', `${signatures.length} Signature elements`);
  // SAML core §2.3.3: the assertion's own signature is the element right after its Issuer.
  const [issuer, second] = elementChildren(root);
  if (!isNamed(issuer, SAML_ASSERTION_NS, 'Issuer') || second !== signature) {
    return unsigned('the SAML assertion is not signed by an enveloped signature of its own');
  }
  return { ok: true, value: signature };
}

/** XML Signature 1.1 §4.4 (SignedInfo) and §4.4.3 (Reference), narrowed to what SAML IdPs emit. */
function checkSignedInfo(signature: Element, id: string): Result<string> {
  // §4.1: SignedInfo, SignatureValue, KeyInfo?; an Object (the classic wrapping hiding place) is refused.
  const parts = elementChildren(signature);
  const [signedInfo, signatureValue, keyInfo, ...rest] = parts;
  if (!isNamed(signedInfo, XMLDSIG_NS, 'SignedInfo') || !isNamed(signatureValue, XMLDSIG_NS, 'SignatureValue')) {
    return unsigned('the signature is not SignedInfo then SignatureValue');
  }
  if ((keyInfo !== undefined && !isNamed(keyInfo, XMLDSIG_NS, 'KeyInfo')) || rest.length > 0) {
    return unsigned('the signature carries elements other than SignedInfo, SignatureValue and KeyInfo');
  }
  // Make sure the one xml-crypto finds is the one checked here.
  const seen = new Set<string>();
  for (const element of allElements(signature)) {
    const name = element.localName ?? '';
    if (!LOOKED_UP_ANYWHERE.has(name)) continue;
    if (seen.has(name)) return unsigned(`the signature has more than one ${name}`);
    seen.add(name);
  }
  const [c14n, method, reference, ...others] = elementChildren(signedInfo);
  if (!isNamed(c14n, XMLDSIG_NS, 'CanonicalizationMethod') || !isNamed(method, XMLDSIG_NS, 'SignatureMethod')) {
    return unsigned('the signature has no CanonicalizationMethod and SignatureMethod');
  }
  if (!isNamed(reference, XMLDSIG_NS, 'Reference') || others.length > 0) return unsigned('the signature must have exactly one Reference');
  const c14nAlgorithm = attributeValue(c14n, 'Algorithm') ?? '';
  // Exclusive c14n without comments only: it is what SAML IdPs use, and comments never reach the signed form.
  if (c14nAlgorithm !== EXC_C14N) return unsigned('the signature canonicalization algorithm is not allowed', c14nAlgorithm);
  const signatureAlgorithm = attributeValue(method, 'Algorithm') ?? '';
  if (!SIGNATURE_ALGORITHMS.has(signatureAlgorithm)) return unsigned('the signature algorithm is not allowed', signatureAlgorithm);
  // SAML core §5.4.2: the one Reference points at the assertion's own ID.
  if (attributeValue(reference, 'URI') !== `#${id}`) return unsigned('the signature does not reference the assertion');
  const [transforms, digestMethod, digestValue, ...extra] = elementChildren(reference);
  if (!isNamed(transforms, XMLDSIG_NS, 'Transforms') || !isNamed(digestMethod, XMLDSIG_NS, 'DigestMethod')) {
    return unsigned('the signature reference has no Transforms and DigestMethod');
  }
  if (!isNamed(digestValue, XMLDSIG_NS, 'DigestValue') || extra.length > 0) return unsigned('the signature reference is malformed');
  // SAML core §5.4.4: enveloped-signature, then exclusive c14n; nothing else may shape the signed bytes.
  const steps = elementChildren(transforms);
  const algorithms = steps.map((step) => (isNamed(step, XMLDSIG_NS, 'Transform') ? attributeValue(step, 'Algorithm') : undefined));
  if (algorithms.length !== 2 || algorithms[0] !== ENVELOPED_SIGNATURE || algorithms[1] !== EXC_C14N) {
    return unsigned('the signature transforms are not enveloped-signature then exclusive c14n', algorithms.join(' '));
  }
  const digestAlgorithm = attributeValue(digestMethod, 'Algorithm') ?? '';
  if (!DIGEST_ALGORITHMS.has(digestAlgorithm)) return unsigned('the signature digest algorithm is not allowed', digestAlgorithm);
  return { ok: true, value: signatureAlgorithm };
}

/**
 * Checks the document shape that makes signature wrapping impossible before any cryptography:
 * the root is the one SAML 2.0 Assertion (SAML core §2.3.3), its ID is unique, and the only
 * signature in the document is its own enveloped signature with one Reference to that ID and
 * allowed algorithms only.
 */
export function checkSignatureShape(root: Element): Result<SignatureShape> {
  if (!isNamed(root, SAML_ASSERTION_NS, 'Assertion')) return malformed('the credential is not a bare SAML 2.0 assertion');
  if (attributeValue(root, 'Version') !== '2.0') return malformed('the assertion is not SAML version 2.0');
  const id = attributeValue(root, 'ID');
  if (id === undefined || !XML_ID.test(id)) return malformed('the assertion has no usable ID');
  const signature = checkUniqueness(root, id);
  if (!signature.ok) return signature;
  const algorithm = checkSignedInfo(signature.value, id);
  if (!algorithm.ok) return algorithm;
  return { ok: true, value: { id, signature: signature.value, signatureAlgorithm: algorithm.value } };
}
