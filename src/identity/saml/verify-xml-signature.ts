import { type KeyObject, X509Certificate } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import { type Failure, fail, type Result } from '../../failure.js';
import type { SignatureShape } from './check-signature-shape.js';
import { DIGEST_ALGORITHMS, ENVELOPED_SIGNATURE, EXC_C14N } from './saml-vocabulary.js';
import { toSamlFailure } from './to-saml-failure.js';

function only<T>(table: Record<string, T>, allowed: ReadonlySet<string>): Record<string, T> {
  return Object.fromEntries(Object.entries(table).filter(([uri]) => allowed.has(uri)));
}

/** The RSA public key of a trusted PEM certificate, or `undefined` when it has none (only RSA algorithms are allowed). */
function rsaKeyOf(certificatePem: string): KeyObject | undefined {
  try {
    const key = new X509Certificate(certificatePem).publicKey;
    return key.asymmetricKeyType === 'rsa' ? key : undefined;
  } catch {
    return undefined;
  }
}

/** The outcome of one key: `final` when another key cannot change it (the digest does not depend on the key). */
type KeyOutcome = { readonly result: Result<string>; readonly final: boolean };

/** One xml-crypto verification against one key; the signed canonical XML of the one reference, or a failure. */
function verifyWithKey(xml: string, shape: SignatureShape, key: KeyObject): KeyOutcome {
  // KeyInfo in the message is never a source of keys: only the configured certificates are.
  const verifier = new SignedXml({ publicCert: key, getCertFromKeyInfo: () => null });
  // Belt and braces over checkSignatureShape: xml-crypto itself knows only the allowed algorithms.
  verifier.SignatureAlgorithms = only(verifier.SignatureAlgorithms, new Set([shape.signatureAlgorithm]));
  verifier.HashAlgorithms = only(verifier.HashAlgorithms, DIGEST_ALGORITHMS);
  verifier.CanonicalizationAlgorithms = only(verifier.CanonicalizationAlgorithms, new Set([EXC_C14N, ENVELOPED_SIGNATURE]));
  try {
    verifier.loadSignature(shape.signature);
    // xml-crypto returns false when a Reference digest does not match, and throws when the SignatureValue does not.
    if (!verifier.checkSignature(xml)) {
      return { result: fail('ERR_SAML_SIGNATURE', 'the SAML assertion signature does not verify', 'digest mismatch'), final: true };
    }
  } catch (error) {
    return { result: toSamlFailure(error, 'signature'), final: false };
  }
  const signed = verifier.getSignedReferences();
  const [canonical] = signed;
  if (canonical === undefined || signed.length !== 1) {
    return { result: fail('ERR_SAML_SIGNATURE', 'the SAML assertion signature does not verify', `${signed.length} signed references`), final: true };
  }
  return { result: { ok: true, value: canonical }, final: true };
}

/**
 * Verifies the assertion's enveloped signature against each trusted certificate in turn and returns
 * the canonical XML that the signature covers (xml-crypto `getSignedReferences()`): the only text
 * the caller may read claims from, so that nothing unsigned in the document can be mistaken for
 * signed content (signature wrapping; Somorovsky et al., 2012).
 */
export function verifyXmlSignature(xml: string, shape: SignatureShape, certificates: readonly string[]): Result<string> {
  let last: Failure = fail('ERR_SAML_SIGNATURE', 'the SAML assertion is not signed by a trusted key', 'no trusted RSA certificate');
  for (const certificate of certificates) {
    const key = rsaKeyOf(certificate);
    if (key === undefined) continue;
    const { result, final } = verifyWithKey(xml, shape, key);
    if (result.ok || final) return result;
    last = result;
  }
  return last;
}
