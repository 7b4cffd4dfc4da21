import { describe, expect, it } from 'vitest';
import type { Authenticator } from '../../../src/identity/authenticator.js';
import { createFindCredential } from '../../../src/identity/find-credential.js';

const stub = (kind: Authenticator['kind'], scheme: string, headers: string[] = []): Authenticator => ({
  kind,
  scheme,
  headers,
  authenticate: () => ({ ok: false, code: 'ERR_INTERNAL', detail: 'not called here' }),
  close: () => {},
});
const find = createFindCredential([stub('jwt', 'bearer'), stub('apiKey', 'apikey', ['x-api-key']), stub('saml', 'saml')]);

describe('findCredential (RFC 9110 §11.6.2: auth-scheme SP token68)', () => {
  it('finds nothing when no credential header is present', () => {
    expect(find({ 'content-type': 'application/json' })).toBeUndefined();
  });

  it.each([
    { name: 'Bearer', headers: { authorization: 'Bearer a.b.c' }, kind: 'jwt', credential: 'a.b.c', header: 'authorization' },
    {
      name: 'scheme in lower case (§11.1: case-insensitive)',
      headers: { authorization: 'bearer a.b.c' },
      kind: 'jwt',
      credential: 'a.b.c',
      header: 'authorization',
    },
    { name: 'ApiKey', headers: { authorization: 'ApiKey cgk_x' }, kind: 'apiKey', credential: 'cgk_x', header: 'authorization' },
    { name: 'SAML', headers: { authorization: 'SAML PHNhbWw+' }, kind: 'saml', credential: 'PHNhbWw+', header: 'authorization' },
    { name: 'a dedicated header', headers: { 'x-api-key': 'cgk_x' }, kind: 'apiKey', credential: 'cgk_x', header: 'x-api-key' },
    {
      name: 'a scheme without a credential (the authenticator refuses it)',
      headers: { authorization: 'Bearer' },
      kind: 'jwt',
      credential: '',
      header: 'authorization',
    },
    { name: 'two spaces (the authenticator refuses " x")', headers: { authorization: 'Bearer  x' }, kind: 'jwt', credential: ' x', header: 'authorization' },
  ])('$name → $kind', ({ headers, kind, credential, header }) => {
    const found = find(headers);
    expect(found?.ok ? [found.authenticator.kind, found.credential, found.header] : found).toEqual([kind, credential, header]);
  });

  it.each([
    { name: 'an unknown scheme', headers: { authorization: 'Basic YWxpY2U6cHc=' }, code: 'ERR_CREDENTIAL_SCHEME' },
    { name: 'no scheme at all', headers: { authorization: 'eyJhbGciOiJFUzI1NiJ9.e30.sig' }, code: 'ERR_CREDENTIAL_SCHEME' },
    { name: 'an empty header', headers: { authorization: '' }, code: 'ERR_CREDENTIAL_SCHEME' },
    { name: 'a leading space', headers: { authorization: ' Bearer a.b.c' }, code: 'ERR_CREDENTIAL_SCHEME' },
    { name: 'Authorization sent twice (joined by Envoy)', headers: { authorization: 'Bearer a.b.c,Bearer d.e.f' }, code: 'ERR_CREDENTIAL_AMBIGUOUS' },
    { name: 'the key header sent twice', headers: { 'x-api-key': 'cgk_a,cgk_b' }, code: 'ERR_CREDENTIAL_AMBIGUOUS' },
    { name: 'a token and a key', headers: { authorization: 'Bearer a.b.c', 'x-api-key': 'cgk_a' }, code: 'ERR_CREDENTIAL_AMBIGUOUS' },
  ])('$name → $code', ({ headers, code }) => {
    const found = find(headers);
    expect(found?.ok === false ? found.code : found).toBe(code);
  });

  it('names the accepted schemes, never the credential', () => {
    const found = find({ authorization: 'Basic c2VjcmV0' });
    expect(found?.ok === false ? found.detail : '').toContain('bearer, apikey, saml');
    expect(JSON.stringify(found)).not.toContain('c2VjcmV0');
  });
});
