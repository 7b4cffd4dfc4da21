import { jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { createJwtAuthenticator } from '../../src/identity/jwt/jwt-authenticator.js';
import { toTokenHash } from '../../src/identity/jwt/token-hash.js';
import { useCallguardFixture } from '../helpers/callguard-fixture.js';
import { summarize } from '../helpers/envoy-check.js';
import { testIdentityConfig, testIssuerConfig } from '../helpers/jwt-config.js';
import { isHighS, toOtherS } from '../helpers/raw-jws.js';

// Issue 10: an ES256 token and its high-S twin (s → n − s) both verified, and each got its own
// tokenHash, so the decision log could not tell they were one token. Both still verify (ECDSA signers
// emit either form, see token-shape.ts); now they share one tokenHash, taken over the signing input.
const suite = useCallguardFixture();
const signingInput = (token: string) => token.slice(0, token.lastIndexOf('.'));

describe('regression: the high-S spelling of an ES256 token has the same tokenHash', () => {
  it('is accepted by the authenticator and yields the original tokenHash', async () => {
    const authenticator = await createJwtAuthenticator(testIdentityConfig([testIssuerConfig(suite.issuer)]));
    try {
      const token = await suite.issuer.mint({ key: suite.issuer.es256, claims: { sub: 'alice' } });
      const twin = toOtherS(token);
      expect(twin).not.toBe(token);
      expect(isHighS(token)).not.toBe(isHighS(twin)); // exactly one of the two is high-S
      await expect(jwtVerify(twin, suite.issuer.es256.publicKey)).resolves.toBeDefined();
      const original = await authenticator.authenticate(token);
      expect(original.ok ? 'ok' : original.code).toBe('ok');
      // The cache is keyed by the raw token: the twin misses it (a promise, not a cached answer) and is verified.
      const pending = authenticator.authenticate(twin);
      expect(pending).toBeInstanceOf(Promise);
      const other = await pending;
      expect(other.ok ? 'ok' : other.code).toBe('ok');
      if (!original.ok || !other.ok) return;
      expect(other.value.tokenHash).toBe(original.value.tokenHash);
      expect(original.value.tokenHash).toBe(toTokenHash(signingInput(token)));
    } finally {
      authenticator.close();
    }
  });

  it('maps both spellings to one tokenHash in the decision log, through the gRPC server', async () => {
    const token = await suite.issuer.mint({ key: suite.issuer.es256, claims: { sub: 'alice', groups: ['orders-readers'], jti: 'jti-high-s' } });
    const twin = toOtherS(token);
    const before = suite.fx.log.lines.length;
    // The twin is another cache key: it is verified on its own, not served from the original's entry.
    for (const spelling of [token, twin, twin, token]) expect(summarize(await check(spelling)).allow).toBe(true);
    const lines = suite.fx.log.lines.slice(before) as { outcome: string; principal: { tokenHash: string; jti: string } }[];
    expect(lines.map((line) => line.outcome)).toEqual(['allow', 'allow', 'allow', 'allow']);
    expect(new Set(lines.map((line) => line.principal.tokenHash))).toEqual(new Set([toTokenHash(signingInput(token))]));
    expect(lines.every((line) => line.principal.jti === 'jti-high-s')).toBe(true);
  });
});

function check(token: string) {
  return suite.fx.client.check({ method: 'GET', path: '/orders/ord-1', headers: { authorization: `Bearer ${token}` } });
}
