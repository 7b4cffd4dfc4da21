import { beforeAll, describe, expect, it } from 'vitest';
import type { ReasonCode } from '../../../../src/errors.js';
import { verifySamlAssertion } from '../../../../src/identity/saml/verify-assertion.js';
import {
  ALG,
  type AssertionOptions,
  BEARER,
  createSamlKey,
  instant,
  SAML_NOW,
  type SamlKey,
  SP_AUDIENCE,
  samlTrust,
  signedAssertion,
} from '../../../helpers/saml-signer.js';

let idp: SamlKey;
let second: SamlKey;

beforeAll(() => {
  idp = createSamlKey('idp');
  second = createSamlKey('idp-rollover');
});

const HOLDER_OF_KEY = 'urn:oasis:names:tc:SAML:2.0:cm:holder-of-key';
const attributes = (count: number, values = 1) =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`a${i}`, Array.from({ length: values }, (_, j) => `v${j}`)]));

describe('verifySamlAssertion: a valid assertion', () => {
  it('returns the signed subject, groups, attributes and times', () => {
    const result = verifySamlAssertion(signedAssertion(idp), samlTrust([idp.certificatePem]), SAML_NOW);
    expect(result.ok && result.value).toEqual({
      id: '_assertion1',
      issuer: 'https://idp.example.com/saml',
      nameId: 'alice@corp.example',
      nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      groups: ['engineering', 'oncall'],
      attributes: { groups: ['engineering', 'oncall'], mail: ['alice@corp.example'] },
      notOnOrAfter: SAML_NOW / 1000 + 300,
      issueInstant: SAML_NOW / 1000 - 10,
    });
  });

  it.each([
    { name: 'rsa-sha512 with a sha512 digest', options: {}, sign: { signatureAlgorithm: ALG.rsaSha512, digestAlgorithm: ALG.sha512 } },
    { name: 'an XML declaration before the root', options: {}, prefix: '<?xml version="1.0" encoding="UTF-8"?>\n' },
    { name: 'no Conditions times, bearer NotOnOrAfter only', options: { notBefore: null, notOnOrAfter: null } },
    { name: 'no NotOnOrAfter on the bearer confirmation, Conditions has one', options: { confirmations: [{ notOnOrAfter: null }] } },
    { name: 'Conditions expired 30 s ago, inside the 60 s skew', options: { notOnOrAfter: instant(-30), confirmations: [{ notOnOrAfter: null }] } },
    { name: 'NotBefore 30 s ahead, inside the skew', options: { notBefore: instant(30), issueInstant: instant(30) } },
    {
      name: 'an expired bearer confirmation next to a valid one',
      options: { confirmations: [{ notOnOrAfter: instant(-600) }, { method: HOLDER_OF_KEY }, { notOnOrAfter: instant(200) }] },
    },
    { name: 'Recipient and InResponseTo are not checked', options: { confirmations: [{ recipient: 'https://elsewhere', inResponseTo: '_req' }] } },
    { name: 'two restrictions that both name us', options: { audienceRestrictions: [[SP_AUDIENCE], ['https://other', SP_AUDIENCE]] } },
    { name: 'a ProxyRestriction condition', options: { extraConditions: '<saml:ProxyRestriction Count="0"/>' } },
    { name: 'a 4096-byte attribute value', options: { attributes: { big: ['x'.repeat(4096)] } } },
    { name: '256 attributes', options: { attributes: attributes(256) } },
    { name: '256 values of one attribute', options: { attributes: attributes(1, 256) } },
  ] satisfies { name: string; options: AssertionOptions; sign?: object; prefix?: string }[])('accepts $name', ({ options, sign, prefix }) => {
    const xml = (prefix ?? '') + signedAssertion(idp, options, sign ?? {});
    const result = verifySamlAssertion(xml, samlTrust([idp.certificatePem]), SAML_NOW);
    expect(result.ok ? 'ok' : result.code).toBe('ok');
  });

  it('tries each trusted certificate in turn', () => {
    const trust = samlTrust(['not a certificate', idp.certificatePem, second.certificatePem]);
    expect(verifySamlAssertion(signedAssertion(second), trust, SAML_NOW).ok).toBe(true);
  });

  it('reports the earliest NotOnOrAfter of Conditions and the bearer confirmation', () => {
    const xml = signedAssertion(idp, { notOnOrAfter: instant(300), confirmations: [{ notOnOrAfter: instant(120) }] });
    const result = verifySamlAssertion(xml, samlTrust([idp.certificatePem]), SAML_NOW);
    expect(result.ok && result.value.notOnOrAfter).toBe(SAML_NOW / 1000 + 120);
  });

  it('keeps string values only: complex and nil AttributeValues are skipped', () => {
    const extraAttributeXml =
      '<saml:Attribute Name="groups"><saml:AttributeValue><saml:NameID>x</saml:NameID></saml:AttributeValue>' +
      '<saml:AttributeValue xsi:nil="true"/><saml:AttributeValue>admins</saml:AttributeValue></saml:Attribute>';
    const xml = signedAssertion(idp, { attributes: {}, extraAttributeXml });
    const result = verifySamlAssertion(xml, samlTrust([idp.certificatePem]), SAML_NOW);
    expect(result.ok && result.value.groups).toEqual(['admins']);
  });

  it('has no groups without a groups attribute in the trust', () => {
    const trust = samlTrust([idp.certificatePem], { groupsAttribute: 'memberOf' });
    const result = verifySamlAssertion(signedAssertion(idp), trust, SAML_NOW);
    expect(result.ok && result.value.groups).toEqual([]);
  });
});

describe('verifySamlAssertion: the trust policy', () => {
  it.each([
    { name: 'the wrong issuer', options: { issuer: 'https://evil.example.com' }, code: 'ERR_SAML_ISSUER' },
    { name: 'the wrong audience', options: { audienceRestrictions: [['https://other.example.com']] }, code: 'ERR_SAML_AUDIENCE' },
    { name: 'no AudienceRestriction', options: { audienceRestrictions: [] }, code: 'ERR_SAML_AUDIENCE' },
    { name: 'no Conditions at all', options: { omitConditions: true }, code: 'ERR_SAML_AUDIENCE' },
    {
      name: 'a second AudienceRestriction without us (SAML core §2.5.1.4)',
      options: { audienceRestrictions: [[SP_AUDIENCE], ['https://other']] },
      code: 'ERR_SAML_AUDIENCE',
    },
    { name: 'Conditions expired', options: { notOnOrAfter: instant(-120) }, code: 'ERR_SAML_EXPIRED' },
    { name: 'Conditions NotOnOrAfter exactly now minus skew', options: { notOnOrAfter: instant(-60) }, code: 'ERR_SAML_EXPIRED' },
    { name: 'NotBefore in the future', options: { notBefore: instant(120) }, code: 'ERR_SAML_NOT_YET_VALID' },
    { name: 'IssueInstant in the future', options: { issueInstant: instant(120), notBefore: null }, code: 'ERR_SAML_NOT_YET_VALID' },
    { name: 'no bearer confirmation', options: { confirmations: [{ method: HOLDER_OF_KEY }] }, code: 'ERR_SAML_CONFIRMATION' },
    { name: 'no confirmation at all', options: { confirmations: [] }, code: 'ERR_SAML_CONFIRMATION' },
    { name: 'an expired bearer confirmation', options: { confirmations: [{ notOnOrAfter: instant(-120) }] }, code: 'ERR_SAML_CONFIRMATION' },
    { name: 'a bearer confirmation not valid yet', options: { confirmations: [{ notBefore: instant(120) }] }, code: 'ERR_SAML_CONFIRMATION' },
    { name: 'a lifetime over the maximum', options: { notOnOrAfter: instant(7200), confirmations: [{ notOnOrAfter: null }] }, code: 'ERR_SAML_LIFETIME' },
    {
      name: 'a lifetime over the maximum counted from IssueInstant',
      options: { notBefore: null, issueInstant: instant(-3000), notOnOrAfter: instant(700), confirmations: [{ notOnOrAfter: null }] },
      code: 'ERR_SAML_LIFETIME',
    },
    { name: 'no NotOnOrAfter anywhere', options: { notOnOrAfter: null, confirmations: [{ notOnOrAfter: null }] }, code: 'ERR_SAML_MALFORMED' },
  ] satisfies { name: string; options: AssertionOptions; code: ReasonCode }[])('refuses $name with $code', ({ options, code }) => {
    const result = verifySamlAssertion(signedAssertion(idp, options), samlTrust([idp.certificatePem]), SAML_NOW);
    expect(result.ok ? 'ok' : result.code).toBe(code);
    expect(result.ok ? '' : result.detail).not.toContain('alice');
  });
});

describe('verifySamlAssertion: malformed signed content', () => {
  const nameId = (inner: string) =>
    `<saml:Subject><saml:NameID>${inner}</saml:NameID><saml:SubjectConfirmation Method="${BEARER}"><saml:SubjectConfirmationData NotOnOrAfter="${instant(300)}"/></saml:SubjectConfirmation></saml:Subject>`;
  it.each([
    { name: 'an offset time zone (SAML core §1.3.3)', options: { notOnOrAfter: '2030-01-15T13:05:00+01:00' } },
    { name: 'a time without a zone', options: { notOnOrAfter: '2030-01-15T12:05:00' } },
    { name: 'a day that does not exist', options: { notBefore: '2030-02-30T00:00:00Z' } },
    { name: 'an unparseable IssueInstant', options: { issueInstant: 'yesterday' } },
    { name: 'SAML version 1.1', options: { version: '1.1' } },
    { name: 'a OneTimeUse condition (no replay cache)', options: { extraConditions: '<saml:OneTimeUse/>' } },
    { name: 'an unknown condition (SAML core §2.5.1.1)', options: { extraConditions: '<saml:Condition xsi:type="x:Custom" xmlns:x="urn:x"/>' } },
    { name: 'no Subject', options: { subjectXml: '' } },
    { name: 'a NameID with element content', options: { subjectXml: nameId('admin@corp.example<saml:X/>') } },
    { name: 'an empty NameID', options: { subjectXml: nameId('') } },
    { name: 'an EncryptedID instead of a NameID', options: { subjectXml: '<saml:Subject><saml:EncryptedID/></saml:Subject>' } },
    { name: '257 attributes', options: { attributes: attributes(257) } },
    { name: '257 values of one attribute', options: { attributes: attributes(1, 257) } },
    { name: 'a 4097-byte attribute value', options: { attributes: { big: [`${'é'.repeat(2048)}x`] } } },
    { name: 'an Attribute without Name', options: { extraAttributeXml: '<saml:Attribute><saml:AttributeValue>x</saml:AttributeValue></saml:Attribute>' } },
  ] satisfies { name: string; options: AssertionOptions }[])('refuses $name as malformed', ({ options }) => {
    const result = verifySamlAssertion(signedAssertion(idp, options), samlTrust([idp.certificatePem]), SAML_NOW);
    expect(result.ok ? 'ok' : result.code).toBe('ERR_SAML_MALFORMED');
  });
});
