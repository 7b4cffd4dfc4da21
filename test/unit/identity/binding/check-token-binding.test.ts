import { createHash, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTokenBinding, type SenderConstraint } from '../../../../src/identity/binding/check-token-binding.js';
import { apiKeyPrincipal, jwtPrincipal } from '../../../helpers/principals.js';
import { createTestCerts } from '../../../helpers/test-certs.js';

describe('checkTokenBinding (RFC 7800 cnf, RFC 8705 §3 certificate-bound tokens, RFC 9449 §7.1)', () => {
  const certs = createTestCerts();
  let mine: string;
  let other: string;
  let thumbprint: string;
  beforeAll(() => {
    mine = certs.leaf('client', 'URI:spiffe://example.org/ns/a/sa/client').pem;
    other = certs.leaf('other', 'URI:spiffe://example.org/ns/a/sa/other').pem;
    thumbprint = createHash('sha256').update(new X509Certificate(mine).raw).digest('base64url');
  });
  afterAll(() => certs.cleanup());

  const token = (cnf?: unknown) => jwtPrincipal('corp', 'alice', [], cnf === undefined ? {} : { cnf });
  const peer = (pem: string | undefined) => (pem === undefined ? undefined : { principal: 'spiffe://example.org/ns/a/sa/client', certificatePem: pem });
  const check = (cnf: unknown, pem: string | undefined, required?: SenderConstraint) => checkTokenBinding(token(cnf), peer(pem), required)?.code ?? 'ok';

  it.each([
    { name: 'no cnf, nothing required', cnf: undefined, pem: undefined, required: undefined, want: 'ok' },
    { name: 'bound to this certificate', cnf: () => ({ 'x5t#S256': thumbprint }), pem: () => mine, required: undefined, want: 'ok' },
    { name: 'bound to this certificate, mtls required', cnf: () => ({ 'x5t#S256': thumbprint }), pem: () => mine, required: 'mtls', want: 'ok' },
    { name: 'bound, either accepted', cnf: () => ({ 'x5t#S256': thumbprint }), pem: () => mine, required: 'either', want: 'ok' },
    {
      name: 'bound to another certificate (a stolen token)',
      cnf: () => ({ 'x5t#S256': thumbprint }),
      pem: () => other,
      required: undefined,
      want: 'ERR_TOKEN_BINDING',
    },
    { name: 'bound, but no client certificate', cnf: () => ({ 'x5t#S256': thumbprint }), pem: undefined, required: undefined, want: 'ERR_TOKEN_BINDING' },
    { name: 'bound, Envoy sent no PEM', cnf: () => ({ 'x5t#S256': thumbprint }), pem: () => '', required: undefined, want: 'ERR_TOKEN_BINDING' },
    { name: 'mtls required, token unbound', cnf: undefined, pem: () => mine, required: 'mtls', want: 'ERR_TOKEN_BINDING' },
    { name: 'dpop required, certificate-bound token', cnf: () => ({ 'x5t#S256': thumbprint }), pem: () => mine, required: 'dpop', want: 'ERR_TOKEN_BINDING' },
    {
      name: 'DPoP-bound token presented as Bearer (RFC 9449 §7.1)',
      cnf: () => ({ jkt: 'abc' }),
      pem: () => mine,
      required: undefined,
      want: 'ERR_TOKEN_BINDING',
    },
    {
      name: 'a confirmation method callguard cannot check',
      cnf: () => ({ jwk: { kty: 'EC' } }),
      pem: () => mine,
      required: undefined,
      want: 'ERR_TOKEN_BINDING',
    },
    { name: 'cnf not an object', cnf: () => 'x', pem: () => mine, required: undefined, want: 'ERR_TOKEN_BINDING' },
    { name: 'x5t#S256 not a string', cnf: () => ({ 'x5t#S256': 1 }), pem: () => mine, required: undefined, want: 'ERR_TOKEN_BINDING' },
  ] as { name: string; cnf: (() => unknown) | undefined; pem: (() => string) | undefined; required: SenderConstraint | undefined; want: string }[])(
    '$name → $want',
    ({ cnf, pem, required, want }) => {
      expect(check(cnf?.(), pem?.(), required)).toBe(want);
    },
  );

  it('an API key is never sender-constrained', () => {
    expect(checkTokenBinding(apiKeyPrincipal('apiKeys', 'ci'), peer(mine), undefined)).toBeUndefined();
    expect(checkTokenBinding(apiKeyPrincipal('apiKeys', 'ci'), peer(mine), 'mtls')?.code).toBe('ERR_TOKEN_BINDING');
  });
});
