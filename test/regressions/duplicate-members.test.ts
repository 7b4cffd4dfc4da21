import { jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { useCallguardFixture } from '../helpers/callguard-fixture.js';
import { summarize } from '../helpers/envoy-check.js';
import type { TestKey } from '../helpers/jwt-issuer.js';
import { signRaw, withUnusedBits } from '../helpers/raw-jws.js';

// Issue 10: tokens really signed by the issuer's key, with a member named twice, were allowed with the
// last value (`{"alg":"none",…,"alg":"ES256"}`, a second `sub` or `groups`); a signature re-spelt in its
// unused bits was allowed too. Each is now a 401 ERR_TOKEN_MALFORMED through the real gRPC server.
const suite = useCallguardFixture();

describe('regression: duplicate member names and re-spelt segments are refused end to end', () => {
  const claims = (extra: string) => {
    const now = Math.floor(Date.now() / 1000);
    return `{"iss":"${suite.issuer.url}","aud":"callguard","iat":${now},"exp":${now + 300},${extra}}`;
  };
  const header = (key: TestKey, extra = '') => `{${extra}"alg":"${key.alg}","kid":"${key.kid}"}`;
  const check = async (token: string) =>
    summarize(await suite.fx.client.check({ method: 'GET', path: '/orders/ord-1', headers: { authorization: `Bearer ${token}` } }));

  it('allows the same token without duplicates (control)', async () => {
    const token = await signRaw(suite.issuer.es256, header(suite.issuer.es256), claims('"sub":"alice","groups":["orders-readers"]'));
    expect((await check(token)).allow).toBe(true);
  });

  it.each([
    { name: 'alg none, then ES256', make: (k: TestKey) => [header(k, '"alg":"none",'), claims('"sub":"alice","groups":["orders-readers"]')] },
    { name: 'sub twice', make: (k: TestKey) => [header(k), claims('"sub":"alice","groups":["orders-readers"],"sub":"admin"')] },
    { name: 'exp twice', make: (k: TestKey) => [header(k), `{"exp":1,${claims('"sub":"alice","groups":["orders-readers"]').slice(1)}`] },
    { name: 'groups twice', make: (k: TestKey) => [header(k), claims('"sub":"alice","groups":["nobody"],"groups":["orders-readers"]')] },
    { name: 'a nested duplicate', make: (k: TestKey) => [header(k), claims('"sub":"alice","groups":["orders-readers"],"org":{"id":1,"id":2}')] },
  ])('denies $name with 401 ERR_TOKEN_MALFORMED', async ({ make }) => {
    const [h, p] = make(suite.issuer.es256) as [string, string];
    const token = await signRaw(suite.issuer.es256, h, p);
    await expect(jwtVerify(token, suite.issuer.es256.publicKey)).resolves.toBeDefined(); // jose alone: last one wins
    const before = suite.fx.log.lines.length;
    const s = await check(token);
    expect(s.allow ? 'allow' : s.problem.code).toBe('ERR_TOKEN_MALFORMED');
    if (!s.allow) expect(s.status).toBe(401);
    expect(suite.fx.log.lines.slice(before)).toMatchObject([{ outcome: 'deny', code: 'ERR_TOKEN_MALFORMED' }]);
  });

  it('denies an ES256 signature re-spelt in its unused bits with 401 ERR_TOKEN_MALFORMED', async () => {
    const token = await suite.issuer.mint({ key: suite.issuer.es256, claims: { sub: 'alice', groups: ['orders-readers'] } });
    const [h, p, sig] = token.split('.') as [string, string, string];
    const respelt = `${h}.${p}.${withUnusedBits(sig)}`;
    await expect(jwtVerify(respelt, suite.issuer.es256.publicKey)).resolves.toBeDefined();
    const s = await check(respelt);
    expect(s.allow ? 'allow' : s.problem.code).toBe('ERR_TOKEN_MALFORMED');
  });
});
