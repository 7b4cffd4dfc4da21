import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryReplayStore } from '../../src/replay/memory-replay-store.js';
import { type Fixture, startFixture } from '../helpers/callguard-fixture.js';
import { type EnvoyShape, summarize } from '../helpers/envoy-check.js';
import { createTestIssuer, type TestIssuer } from '../helpers/jwt-issuer.js';

/** `orders.approve` is `singleUse: true` in the fixture (issue 10, item 3). */
describe('single-use credentials on the real gRPC server', () => {
  let issuer: TestIssuer;
  let fx: Fixture;
  const t = Date.now();
  let n = 0;
  beforeAll(async () => {
    issuer = await createTestIssuer();
    fx = await startFixture(issuer.jwksUrl, issuer.url, () => t);
  });
  afterAll(async () => {
    await fx?.close();
    await issuer?.close();
  });

  const approve = (token: string, body = '{"amount":5}'): EnvoyShape => ({
    method: 'POST',
    path: `/orders/${++n}/approve`,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body,
  });
  const outcome = async (shape: EnvoyShape): Promise<string> => {
    const s = summarize(await fx.client.check(shape));
    return s.allow ? 'allow' : s.problem.code;
  };
  const mint = (claims: Record<string, unknown>) => {
    const now = Math.floor(t / 1000);
    return issuer.mint({ claims: { sub: 'alice', groups: ['orders-writers'], iat: now, exp: now + 300, ...claims } });
  };

  it('a token with a jti is accepted once; every later use is ERR_TOKEN_REPLAYED', async () => {
    const token = await mint({ jti: 'approve-1' });
    expect(await outcome(approve(token))).toBe('allow');
    expect(await outcome(approve(token))).toBe('ERR_TOKEN_REPLAYED');
    expect(await outcome(approve(token))).toBe('ERR_TOKEN_REPLAYED');
    // Another function that is not single-use still takes it.
    expect(await outcome({ method: 'GET', path: '/orders/1', headers: { authorization: `Bearer ${token}` } })).toBe('allow');
  });

  it('a token without jti is refused on a single-use function (ERR_CREDENTIAL_REUSABLE), allowed elsewhere', async () => {
    const token = await mint({});
    expect(await outcome(approve(token))).toBe('ERR_CREDENTIAL_REUSABLE');
    expect(await outcome({ method: 'GET', path: '/orders/1', headers: { authorization: `Bearer ${token}` } })).toBe('allow');
  });

  it('a call denied for its payload does not use the token up', async () => {
    const token = await mint({ jti: 'approve-2' });
    expect(await outcome(approve(token, '{"amount":0}'))).toBe('ERR_BODY_SCHEMA');
    expect(await outcome(approve(token))).toBe('allow');
    expect(await outcome(approve(token))).toBe('ERR_TOKEN_REPLAYED');
  });

  it('of 20 concurrent calls with one token exactly one is allowed', async () => {
    const token = await mint({ jti: 'approve-3' });
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => outcome(approve(token))));
    expect(outcomes.filter((o) => o === 'allow')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'ERR_TOKEN_REPLAYED')).toHaveLength(19);
  });

  it('the same jti from the same issuer is one credential (a re-minted token with it is a replay)', async () => {
    expect(await outcome(approve(await mint({ jti: 'approve-4', groups: ['orders-writers'] })))).toBe('allow');
    expect(await outcome(approve(await mint({ jti: 'approve-4', groups: ['orders-writers', 'x'] })))).toBe('ERR_TOKEN_REPLAYED');
  });

  it('the replay is logged as a denial with the token hash of the credential', async () => {
    const token = await mint({ jti: 'approve-5' });
    await outcome(approve(token));
    await outcome(approve(token));
    const [first, second] = fx.log.lines.slice(-2) as unknown as { outcome: string; code: string | null; principal: { jti: string; tokenHash: string } }[];
    expect([first?.outcome, second?.outcome, second?.code]).toEqual(['allow', 'deny', 'ERR_TOKEN_REPLAYED']);
    expect(second?.principal.jti).toBe('approve-5');
    expect(second?.principal.tokenHash).toBe(first?.principal.tokenHash);
  });
});

describe('createMemoryReplayStore', () => {
  it.each([
    { name: 'first claim', steps: [['k', 0]], want: ['first'] },
    {
      name: 'second claim within the ttl',
      steps: [
        ['k', 0],
        ['k', 999],
      ],
      want: ['first', 'replayed'],
    },
    {
      name: 'a claim after the ttl is new again',
      steps: [
        ['k', 0],
        ['k', 1000],
      ],
      want: ['first', 'first'],
    },
    {
      name: 'other keys are independent',
      steps: [
        ['a', 0],
        ['b', 0],
        ['a', 10],
      ],
      want: ['first', 'first', 'replayed'],
    },
    {
      name: 'full: a new key is refused, never forgotten silently',
      steps: [
        ['a', 0],
        ['b', 0],
        ['c', 0],
        ['a', 1],
      ],
      want: ['first', 'first', 'unavailable', 'replayed'],
    },
    {
      name: 'full, but an entry expired: swept to make room',
      steps: [
        ['a', 0],
        ['b', 500],
        ['c', 1200],
      ],
      want: ['first', 'first', 'first'],
    },
  ] as { name: string; steps: [string, number][]; want: string[] }[])('$name', ({ steps, want }) => {
    let t = 0;
    const store = createMemoryReplayStore({ maxEntries: 2, now: () => t });
    const got = steps.map(([key, at]) => {
      t = at;
      return store.claim(key, 1000);
    });
    store.close();
    expect(got).toEqual(want);
  });
});
