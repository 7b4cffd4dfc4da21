import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Fixture } from '../helpers/callguard-fixture.js';
import { describeWithRedis } from '../helpers/describe-with-redis.js';
import { type EnvoyShape, summarize } from '../helpers/envoy-check.js';
import { createEventRecorder } from '../helpers/jwt-events.js';
import { createTestIssuer, type TestIssuer } from '../helpers/jwt-issuer.js';
import { startRedisFixture } from '../helpers/redis-fixture.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';

/**
 * Single-use credentials across replicas (issue 10, item 6): two callguard instances on the real gRPC
 * server share one real redis-server. `orders.approve` is single-use, `orders.get` is not.
 */
describeWithRedis('single-use credentials shared through Redis by two callguard instances', () => {
  let issuer: TestIssuer;
  let redis: RedisServer;
  let a: Fixture;
  let b: Fixture;
  const events = createEventRecorder();
  const t = Date.now();
  let n = 0;
  beforeAll(async () => {
    issuer = await createTestIssuer();
    redis = await startRedisServer();
    const start = () => startRedisFixture({ jwksUrl: issuer.jwksUrl, issuer: issuer.url, redisUrl: redis.url, now: () => t, onEvent: events.onEvent });
    [a, b] = [await start(), await start()];
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.stop();
    await issuer?.close();
  });

  const approve = (token: string): EnvoyShape => ({
    method: 'POST',
    path: `/orders/${++n}/approve`,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: '{"amount":5}',
  });
  const read = (token: string): EnvoyShape => ({ method: 'GET', path: '/orders/1', headers: { authorization: `Bearer ${token}` } });
  const outcome = async (fx: Fixture, shape: EnvoyShape): Promise<string> => {
    const s = summarize(await fx.client.check(shape));
    return s.allow ? 'allow' : `${s.status} ${s.problem.code}`;
  };
  const mint = (jti: string) => {
    const now = Math.floor(t / 1000);
    return issuer.mint({ claims: { sub: 'alice', groups: ['orders-writers'], iat: now, exp: now + 300, jti } });
  };

  it('a token allowed on one instance is ERR_TOKEN_REPLAYED on the other', async () => {
    const token = await mint('shared-1');
    expect(await outcome(a, approve(token))).toBe('allow');
    expect(await outcome(b, approve(token))).toBe('401 ERR_TOKEN_REPLAYED');
    expect(await outcome(a, approve(token))).toBe('401 ERR_TOKEN_REPLAYED');
    // Not single-use: both take it.
    expect([await outcome(a, read(token)), await outcome(b, read(token))]).toEqual(['allow', 'allow']);
  });

  it('of 20 concurrent calls with one token, spread over both instances, exactly one is allowed', async () => {
    const token = await mint('shared-2');
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => outcome(i % 2 === 0 ? a : b, approve(token))));
    expect(outcomes.filter((o) => o === 'allow')).toHaveLength(1);
    expect(outcomes.filter((o) => o === '401 ERR_TOKEN_REPLAYED')).toHaveLength(19);
  });

  it('Redis down: single-use calls are 503 ERR_REPLAY_UNAVAILABLE, other functions keep allowing; back without a restart', async () => {
    const token = await mint('while-down');
    await redis.kill();
    expect(await outcome(a, approve(token))).toBe('503 ERR_REPLAY_UNAVAILABLE');
    expect(await outcome(b, approve(token))).toBe('503 ERR_REPLAY_UNAVAILABLE');
    expect([await outcome(a, read(token)), await outcome(b, read(token))]).toEqual(['allow', 'allow']);
    const [last] = a.log.lines.slice(-2) as unknown as { outcome: string; code: string | null }[];
    expect([last?.outcome, last?.code]).toEqual(['deny', 'ERR_REPLAY_UNAVAILABLE']);
    expect(
      events.events
        .filter((e) => e.level === 'warn' && e.issuer === 'replay')
        .map((e) => e.msg)
        .join('\n'),
    ).toMatch(/lost the connection/);

    await redis.restart();
    // Each instance reconnects by itself: the readiness signal is a single-use call that is allowed.
    for (const [name, fx] of [
      ['a', a],
      ['b', b],
    ] as const) {
      const deadline = Date.now() + 10_000;
      let i = 0;
      while ((await outcome(fx, approve(await mint(`probe-${name}-${++i}`)))) !== 'allow') {
        if (Date.now() > deadline) throw new Error(`instance ${name} did not reconnect within 10 s`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    // Redis was restarted empty (the test server persists nothing), so the refused token is new to it.
    expect(await outcome(b, approve(token))).toBe('allow');
    expect(await outcome(a, approve(token))).toBe('401 ERR_TOKEN_REPLAYED');
  });

  it('an instance started while Redis is down starts (after a bounded wait and a warn), refuses single-use calls only', async () => {
    const down = await startRedisServer();
    await down.kill();
    const own = createEventRecorder();
    const started = Date.now();
    const c = await startRedisFixture({ jwksUrl: issuer.jwksUrl, issuer: issuer.url, redisUrl: down.url, now: () => t, onEvent: own.onEvent });
    try {
      expect(Date.now() - started).toBeLessThan(5000);
      expect(own.events.filter((e) => e.issuer === 'replay').map((e) => `${e.level} ${e.msg}`)).toEqual([expect.stringMatching(/^warn .*not reachable/)]);
      const token = await mint('started-down');
      expect(await outcome(c, approve(token))).toBe('503 ERR_REPLAY_UNAVAILABLE');
      expect(await outcome(c, read(token))).toBe('allow');
    } finally {
      await c.close();
      await down.stop();
    }
  });
});
