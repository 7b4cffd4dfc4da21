import { beforeAll, describe, expect, it } from 'vitest';
import { decodeSamlCredential } from '../../../../src/identity/saml/decode-saml-credential.js';
import { ASSERTION_XML_LIMITS } from '../../../../src/identity/saml/parse-strict-xml.js';
import { verifySamlAssertion } from '../../../../src/identity/saml/verify-assertion.js';
import { buildAssertion, createSamlKey, SAML_NOW, type SamlKey, samlTrust, signedAssertion } from '../../../helpers/saml-signer.js';

let idp: SamlKey;
let signed: string;

beforeAll(() => {
  idp = createSamlKey('idp');
  signed = signedAssertion(idp);
});

const BILLION_LAUGHS =
  '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
  '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>';

const insertIntoSubject = (xml: string, inner: string) => xml.replace('<saml:Subject>', `<saml:Subject>${inner}`);

describe('verifySamlAssertion: hostile XML', () => {
  it.each([
    { name: 'a DOCTYPE', xml: () => `<!DOCTYPE saml:Assertion>${signed}` },
    { name: 'a lower-case doctype', xml: () => `<!doctype x>${signed}` },
    { name: 'billion laughs', xml: () => BILLION_LAUGHS + signed.replace('alice@corp.example', '&lol4;') },
    { name: 'an external entity (XXE)', xml: () => `<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${signed.replace('alice@corp.example', '&xxe;')}` },
    { name: 'an undefined entity reference', xml: () => signed.replace('alice@corp.example', '&xxe;') },
    { name: 'a processing instruction inside', xml: () => insertIntoSubject(signed, '<?evil data?>') },
    { name: 'a processing instruction before the root', xml: () => `<?xml-stylesheet href="x"?>${signed}` },
    { name: 'an XML declaration after whitespace', xml: () => ` <?xml version="1.0"?>${signed}` },
    { name: 'an undeclared prefix', xml: () => insertIntoSubject(signed, '<evil:X/>') },
    { name: 'an undeclared attribute prefix', xml: () => signed.replace('<saml:Subject>', '<saml:Subject evil:a="1">') },
    { name: 'an unclosed element', xml: () => insertIntoSubject(signed, '<saml:X>') },
    { name: 'a second root element', xml: () => `${signed}<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"/>` },
    { name: 'text after the root', xml: () => `${signed}admin` },
    { name: 'a duplicate attribute', xml: () => signed.replace('Version="2.0"', 'Version="2.0" Version="2.0"') },
    { name: 'an empty document', xml: () => '' },
    { name: 'not XML at all', xml: () => 'admin@corp.example' },
    { name: 'nesting deeper than the limit', xml: () => insertIntoSubject(signed, '<saml:X>'.repeat(40) + '</saml:X>'.repeat(40)) },
    { name: 'more elements than the limit', xml: () => insertIntoSubject(signed, '<x:a xmlns:x="urn:x"/>'.repeat(ASSERTION_XML_LIMITS.maxElements)) },
    {
      name: 'an element with too many attributes',
      xml: () => signed.replace('<saml:Subject>', `<saml:Subject ${Array.from({ length: 65 }, (_, i) => `a${i}="1"`).join(' ')}>`),
    },
  ])('refuses $name as malformed', ({ xml }) => {
    const result = verifySamlAssertion(xml(), samlTrust([idp.certificatePem]), SAML_NOW);
    expect(result.ok ? 'ok' : result.code).toBe('ERR_SAML_MALFORMED');
  });

  it('never throws, and no mutation changes the claims (500 seeded byte flips and truncations)', () => {
    let seed = 0x5eed;
    const random = (below: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % below;
    };
    const alphabet = '<>/="\'&;:!?-[] aZ#x';
    const trust = samlTrust([idp.certificatePem]);
    const codes = new Set<string>();
    for (let round = 0; round < 500; round++) {
      const at = random(signed.length);
      const mutated = round % 5 === 0 ? signed.slice(0, at) : signed.slice(0, at) + alphabet[random(alphabet.length)] + signed.slice(at + 1);
      const result = verifySamlAssertion(mutated, trust, SAML_NOW);
      // A flip inside the SignatureValue's base64 padding or in ignorable whitespace may leave it valid; the claims must not change.
      if (result.ok) expect(result.value.nameId).toBe('alice@corp.example');
      else codes.add(result.code);
    }
    expect([...codes].every((code) => code.startsWith('ERR_SAML_'))).toBe(true);
  });

  describe('a 1 MB assertion', () => {
    it.each([
      { name: 'one huge attribute value, unsigned', xml: () => buildAssertion({ attributes: { big: ['x'.repeat(1 << 20)] } }), code: 'ERR_SAML_SIGNATURE' },
      {
        name: 'a signed assertion padded after signing',
        xml: () => signed.replace('alice@corp.example</saml:NameID>', `alice@corp.example${' '.repeat(1 << 20)}</saml:NameID>`),
        code: 'ERR_SAML_SIGNATURE',
      },
      {
        name: 'signed, with 250 values of 4 KB',
        xml: () => signedAssertion(idp, { attributes: { big: Array.from({ length: 250 }, () => 'x'.repeat(4096)) } }),
        code: 'ok',
      },
      {
        name: 'signed, with a 1 MB attribute value',
        xml: () => signedAssertion(idp, { attributes: { big: ['x'.repeat(1 << 20)] } }),
        code: 'ERR_SAML_MALFORMED',
      },
      { name: 'one element repeated', xml: () => insertIntoSubject(signed, '<x/>'.repeat(1 << 18)), code: 'ERR_SAML_MALFORMED' },
    ])('finishes with $code: $name', ({ xml, code }) => {
      const document = xml();
      expect(document.length).toBeGreaterThan(1_000_000);
      const started = performance.now();
      const result = verifySamlAssertion(document, samlTrust([idp.certificatePem]), SAML_NOW);
      // Logged, not asserted: timings on a shared CI machine are not a contract.
      console.info(`1 MB assertion (${code}) verified in ${Math.round(performance.now() - started)} ms`);
      expect(result.ok ? 'ok' : result.code).toBe(code);
    });

    it('is refused by decodeSamlCredential before any XML work', () => {
      const credential = Buffer.from(signedAssertion(idp, { attributes: { big: ['x'.repeat(1 << 20)] } })).toString('base64');
      const result = decodeSamlCredential(credential, 64 * 1024);
      expect(result.ok ? 'ok' : result.code).toBe('ERR_SAML_MALFORMED');
    });
  });
});
