/** Namespace and algorithm URIs that SAML 2.0 assertions and XML Signature use. */

// SAML core §1.2: namespaces.
export const SAML_ASSERTION_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
export const SAML_METADATA_NS = 'urn:oasis:names:tc:SAML:2.0:metadata';
export const SAML_PROTOCOL_NS = 'urn:oasis:names:tc:SAML:2.0:protocol';
export const XMLDSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';

// SAML core §3.3.2.1.1 / profiles §3.3: the bearer confirmation method.
export const BEARER_METHOD = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
// SAML core §8.3.6: the only Issuer format an assertion's Issuer may carry besides none.
export const ENTITY_NAME_FORMAT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:entity';

// XML Signature 1.1 §6: the algorithms this verifier accepts, and nothing else.
export const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
export const ENVELOPED_SIGNATURE = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
export const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
export const RSA_SHA512 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512';
export const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
export const SHA512 = 'http://www.w3.org/2001/04/xmlenc#sha512';

export const SIGNATURE_ALGORITHMS: ReadonlySet<string> = new Set([RSA_SHA256, RSA_SHA512]);
export const DIGEST_ALGORITHMS: ReadonlySet<string> = new Set([SHA256, SHA512]);
