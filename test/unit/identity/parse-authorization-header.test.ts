import { describe, expect, it } from 'vitest';
import { parseAuthorizationHeader } from '../../../src/identity/verify-bearer.js';

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

describe('parseAuthorizationHeader (RFC 6750 §2.1)', () => {
  it('returns undefined when there is no header', () => {
    expect(parseAuthorizationHeader(undefined)).toBeUndefined();
  });

  it.each([
    { name: 'canonical scheme', value: `Bearer ${JWT}` },
    { name: 'lower-case scheme', value: `bearer ${JWT}` },
    { name: 'upper-case scheme', value: `BEARER ${JWT}` },
    { name: 'b64token characters and padding', value: 'Bearer abc-._~+/def==', token: 'abc-._~+/def==' },
  ])('accepts $name', ({ value, token }) => {
    expect(parseAuthorizationHeader(value)).toEqual({ ok: true, token: token ?? JWT });
  });

  it.each([
    { name: 'empty value', value: '' },
    { name: 'scheme only', value: 'Bearer' },
    { name: 'scheme and space only', value: 'Bearer ' },
    { name: 'two spaces', value: `Bearer  ${JWT}` },
    { name: 'tab separator', value: `Bearer\t${JWT}` },
    { name: 'leading space', value: ` Bearer ${JWT}` },
    { name: 'trailing space', value: `Bearer ${JWT} ` },
    { name: 'other scheme', value: 'Basic dXNlcjpwYXNz' },
    { name: 'no scheme', value: JWT },
    { name: 'two tokens', value: `Bearer ${JWT} ${JWT}` },
    { name: 'duplicate headers joined by Envoy', value: `Bearer ${JWT},Bearer ${JWT}` },
    { name: 'comma inside the token', value: 'Bearer abc,def' },
    { name: 'padding in the middle', value: 'Bearer ab=c' },
    { name: 'non-ASCII character', value: 'Bearer abcé' },
  ])('rejects $name as ERR_TOKEN_MALFORMED', ({ value }) => {
    const result = parseAuthorizationHeader(value);
    expect(result?.ok).toBe(false);
    if (result?.ok !== false) return;
    expect(result.code).toBe('ERR_TOKEN_MALFORMED');
    expect(result.detail).not.toContain(JWT);
  });
});
