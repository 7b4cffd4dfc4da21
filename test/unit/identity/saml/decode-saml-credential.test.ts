import { describe, expect, it } from 'vitest';
import { decodeSamlCredential } from '../../../../src/identity/saml/decode-saml-credential.js';

const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');

describe('decodeSamlCredential', () => {
  it.each([
    { name: 'padded base64', input: b64('<a>é</a>'), xml: '<a>é</a>' },
    { name: 'unpadded base64', input: b64('<a/>x').replace(/=+$/, ''), xml: '<a/>x' },
    { name: 'the + and / characters', input: b64(Buffer.from([0x3c, 0x61, 0x3e, 0xef, 0xbf, 0xbe])), xml: '<a>\uFFFE' },
    { name: 'exactly the size limit', input: b64('x'.repeat(64)), xml: 'x'.repeat(64) },
    { name: 'a UTF-8 byte order mark (dropped)', input: b64('\uFEFF<a/>'), xml: '<a/>' },
  ])('decodes $name', ({ input, xml }) => {
    const result = decodeSamlCredential(input, 64);
    expect(result.ok ? 'ok' : result.code).toBe('ok');
    expect(result.ok && result.value).toBe(xml);
  });

  it.each([
    { name: 'an empty credential', input: '' },
    { name: 'base64 text over the cap (checked before decoding)', input: 'A'.repeat(100_000) },
    { name: 'a credential one byte over the cap', input: b64('x'.repeat(65)) },
    { name: 'base64url characters', input: '-_-_' },
    { name: 'whitespace', input: `${b64('<a/>')} ` },
    { name: 'a line break', input: `${b64('<assertion/>').slice(0, 8)}\n${b64('<assertion/>').slice(8)}` },
    { name: 'padding in the middle', input: 'QQ==QQ==' },
    { name: 'too much padding', input: 'QQ===' },
    { name: 'a length of 4n+1', input: 'QUJDR' },
    { name: 'a character after the padding', input: 'QUJ=A' },
    { name: 'non-zero pad bits (non-canonical)', input: 'QR==' },
    { name: 'invalid UTF-8', input: b64(Buffer.from([0x3c, 0x61, 0xff, 0x3e])) },
    { name: 'an overlong UTF-8 encoding', input: b64(Buffer.from([0xc0, 0xbc])) },
    { name: 'a lone surrogate in CESU form', input: b64(Buffer.from([0xed, 0xa0, 0x80])) },
  ])('refuses $name', ({ input }) => {
    const result = decodeSamlCredential(input, 64);
    expect(result.ok ? 'ok' : result.code).toBe('ERR_SAML_MALFORMED');
  });

  it('refuses a 1 MB credential without decoding it', () => {
    const result = decodeSamlCredential(b64('x'.repeat(1 << 20)), 64 * 1024);
    expect(result.ok ? 'ok' : result.code).toBe('ERR_SAML_MALFORMED');
    expect(result.ok ? '' : result.detail).toBe('the SAML credential is larger than 65536 bytes');
  });
});
