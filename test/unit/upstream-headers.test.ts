import { describe, expect, it } from 'vitest';
import { headerValue, upstreamHeaders } from '../../src/upstream-headers.js';
import { apiKeyPrincipal, jwtPrincipal, mtlsPrincipal } from '../helpers/principals.js';

describe('headerValue', () => {
  it.each([
    { name: 'plain', value: 'alice', want: 'alice' },
    { name: 'url', value: 'https://idp.example/', want: 'https://idp.example/' },
    { name: 'leading space', value: ' root', want: '%20root' },
    { name: 'comma', value: 'x,y', want: 'x%2Cy' },
    { name: 'CRLF injection', value: 'a\r\nx-evil: 1', want: 'a%0D%0Ax-evil%3A%201'.replace('%3A', ':') },
    { name: 'percent', value: '100%', want: '100%25' },
    { name: 'unicode', value: 'zoë', want: 'zo%C3%AB' },
    { name: 'lone surrogate never throws', value: 'a\uD800', want: 'a%EF%BF%BD' },
  ])('$name', ({ value, want }) => {
    expect(headerValue(value)).toBe(want);
  });
});

describe('upstreamHeaders', () => {
  const credential = jwtPrincipal('corp', 'alice', ['w', ' admin']);
  it('removes every identity header it did not set, and spoofed prefixed headers', () => {
    const { setHeaders, removeHeaders } = upstreamHeaders({ 'x-callguard-role': 'admin', 'x-other': '1' }, { credential }, 'f', 'd', 'x-callguard-');
    expect(setHeaders).toEqual({
      'x-callguard-function': 'f',
      'x-callguard-decision-id': 'd',
      'x-callguard-subject': 'alice',
      'x-callguard-issuer': 'https://idp',
      'x-callguard-groups': 'w,%20admin',
      'x-callguard-credential': 'jwt',
    });
    expect(removeHeaders.sort()).toEqual(['authorization', 'x-callguard-role', 'x-callguard-spiffe-id']);
  });

  it('an mTLS-only caller cannot smuggle a subject', () => {
    const { removeHeaders } = upstreamHeaders({}, { peer: mtlsPrincipal('spiffe://example.org/a') }, 'f', 'd', 'x-callguard-');
    expect(removeHeaders).toEqual(expect.arrayContaining(['x-callguard-subject', 'x-callguard-issuer', 'x-callguard-groups', 'x-callguard-credential']));
    expect(removeHeaders).not.toContain('x-callguard-spiffe-id');
  });

  it('an API key caller: owner as subject, the key header removed along with Authorization', () => {
    const caller = { credential: apiKeyPrincipal('apiKeys', 'team-billing', ['ci']) };
    const { setHeaders, removeHeaders } = upstreamHeaders({ 'x-api-key': 'k' }, caller, 'f', 'd', 'x-callguard-', ['authorization', 'x-api-key']);
    expect(setHeaders).toMatchObject({
      'x-callguard-subject': 'team-billing',
      'x-callguard-issuer': 'apiKeys',
      'x-callguard-groups': 'ci',
      'x-callguard-credential': 'apiKey',
    });
    expect(removeHeaders).toEqual(expect.arrayContaining(['authorization', 'x-api-key']));
  });
});
