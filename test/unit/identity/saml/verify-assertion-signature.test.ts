import { beforeAll, describe, expect, it } from 'vitest';
import type { ReasonCode } from '../../../../src/errors.js';
import { verifySamlAssertion } from '../../../../src/identity/saml/verify-assertion.js';
import {
  ALG,
  buildAssertion,
  buildResponse,
  createSamlKey,
  SAML_NOW,
  type SamlKey,
  samlTrust,
  signedAssertion,
  signXml,
} from '../../../helpers/saml-signer.js';

let idp: SamlKey;
let attacker: SamlKey;

beforeAll(() => {
  idp = createSamlKey('idp');
  attacker = createSamlKey('idp');
});

interface SignatureCase {
  readonly name: string;
  readonly xml: () => string;
  readonly code: ReasonCode;
}

describe('verifySamlAssertion: signatures', () => {
  it.each<SignatureCase>([
    { name: 'an unsigned assertion', xml: () => buildAssertion(), code: 'ERR_SAML_SIGNATURE' },
    { name: 'an assertion signed by another key', xml: () => signedAssertion(attacker), code: 'ERR_SAML_SIGNATURE' },
    {
      name: "another key's certificate in KeyInfo (never trusted)",
      xml: () => signedAssertion(attacker, {}, { keyInfoCertificate: attacker.certificatePem }),
      code: 'ERR_SAML_SIGNATURE',
    },
    { name: 'rsa-sha1', xml: () => signedAssertion(idp, {}, { signatureAlgorithm: ALG.rsaSha1 }), code: 'ERR_SAML_SIGNATURE' },
    { name: 'a sha1 digest', xml: () => signedAssertion(idp, {}, { digestAlgorithm: ALG.sha1 }), code: 'ERR_SAML_SIGNATURE' },
    { name: 'inclusive c14n of SignedInfo', xml: () => signedAssertion(idp, {}, { canonicalizationAlgorithm: ALG.c14n }), code: 'ERR_SAML_SIGNATURE' },
    {
      name: 'exclusive c14n with comments',
      xml: () => signedAssertion(idp, {}, { canonicalizationAlgorithm: ALG.excC14nWithComments }),
      code: 'ERR_SAML_SIGNATURE',
    },
    {
      name: 'the enveloped transform alone (implicit inclusive c14n)',
      xml: () => signedAssertion(idp, {}, { transforms: [ALG.enveloped] }),
      code: 'ERR_SAML_SIGNATURE',
    },
    {
      name: 'a Reference URI pointing at the Subject',
      xml: () => signedAssertion(idp, {}, { referenceXpath: "//*[local-name(.)='Subject']" }),
      code: 'ERR_SAML_SIGNATURE',
    },
    {
      name: 'two References',
      xml: () => signedAssertion(idp, {}, { extraReferenceXpaths: ["//*[local-name(.)='Subject']"] }),
      code: 'ERR_SAML_SIGNATURE',
    },
    {
      name: 'the signature placed last instead of after Issuer',
      xml: () => signedAssertion(idp, {}, { location: { reference: '/*', action: 'append' } }),
      code: 'ERR_SAML_SIGNATURE',
    },
    {
      name: 'a NameID changed after signing',
      xml: () => signedAssertion(idp).replace('alice@corp.example</saml:NameID>', 'admin@corp.example</saml:NameID>'),
      code: 'ERR_SAML_SIGNATURE',
    },
    {
      name: 'a SignatureValue changed after signing',
      xml: () => signedAssertion(idp).replace(/<ds:SignatureValue>(.)/, (_, c: string) => `<ds:SignatureValue>${c === 'A' ? 'B' : 'A'}`),
      code: 'ERR_SAML_SIGNATURE',
    },
    {
      name: 'a signed samlp:Response around an unsigned assertion',
      xml: () => signXml(buildResponse(buildAssertion()), { key: idp }),
      code: 'ERR_SAML_MALFORMED',
    },
    {
      name: 'a signed samlp:Response around a signed assertion (a Response is not a bearer credential)',
      xml: () =>
        signXml(buildResponse(signedAssertion(idp)), {
          key: idp,
          referenceXpath: '/*',
          location: { reference: "/*/*[local-name(.)='Issuer']", action: 'after' },
        }),
      code: 'ERR_SAML_MALFORMED',
    },
  ])('refuses $name with $code', ({ xml, code }) => {
    const result = verifySamlAssertion(xml(), samlTrust([idp.certificatePem]), SAML_NOW);
    expect(result.ok ? 'ok' : result.code).toBe(code);
  });

  it('refuses every signature when no certificate is trusted', () => {
    const result = verifySamlAssertion(signedAssertion(idp), samlTrust([]), SAML_NOW);
    expect(result.ok ? 'ok' : result.code).toBe('ERR_SAML_SIGNATURE');
  });

  it('keeps the foreign error internal: the public detail never quotes the message', () => {
    const result = verifySamlAssertion(signedAssertion(attacker), samlTrust([idp.certificatePem]), SAML_NOW);
    expect(result.ok ? 'ok' : result.code).toBe('ERR_SAML_SIGNATURE');
    expect(result.ok ? '' : result.detail).toBe('the SAML assertion signature does not verify');
    expect(result.ok ? '' : result.internal).toContain('invalid signature');
  });
});
