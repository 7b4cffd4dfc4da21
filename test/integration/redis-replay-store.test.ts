import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createReplayStore } from '../../src/replay/create-replay-store.js';
import { createRedisReplayStore, type RedisReplayStoreOptions, replayRedisKey } from '../../src/replay/redis-replay-store.js';
import type { ClaimResult, ReplayStore } from '../../src/replay/replay-store.js';
import { describeWithRedis } from '../helpers/describe-with-redis.js';
import { createEventRecorder, type EventRecorder, type IdentityEvent } from '../helpers/jwt-events.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';
import { createTestCerts } from '../helpers/test-certs.js';

/**
 * The Redis replay store against a real redis-server (issue 10, item 6): claims, two replicas on one
 * Redis, expiry by PX, and the faults (killed, stopped with SIGSTOP, answering errors): each is
 * `unavailable`, never a rejection, and the store recovers by itself.
 */
describeWithRedis('Redis replay store on a real redis-server', () => {
  let redis: RedisServer;
  const stores: ReplayStore[] = [];
  let n = 0;
  const fresh = (): string => `jwt https://issuer.test k-${++n}`;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterEach(() => {
    for (const store of stores.splice(0)) store.close();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  const open = async (options: Partial<RedisReplayStoreOptions> = {}): Promise<ReplayStore> => {
    const store = await createRedisReplayStore({ url: redis.url, ...options });
    stores.push(store);
    return store;
  };
  /** Claims fresh keys until one is `first`: the readiness signal of a store that reconnects by itself. */
  const untilClaiming = async (store: ReplayStore): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while ((await store.claim(fresh(), 60_000)) !== 'first') {
      if (Date.now() > deadline) throw new Error('the store did not recover within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  /** The next event whose message matches: a readiness signal, not a sleep. */
  const nextEvent = async (recorder: EventRecorder, pattern: RegExp): Promise<IdentityEvent> => {
    for (;;) {
      const event = await Promise.race([recorder.next('warn'), recorder.next('info')]);
      if (pattern.test(event.msg)) return event;
    }
  };
  const timed = async (claim: ClaimResult | Promise<ClaimResult>): Promise<{ result: ClaimResult; ms: number }> => {
    const start = performance.now();
    const result = await claim;
    return { result, ms: performance.now() - start };
  };

  it('a key is first once, then replayed; it is stored hashed under the prefix with the ttl', async () => {
    const store = await open({ keyPrefix: 'cg-test-1:' });
    const key = 'jwt https://issuer.test jti-secret-looking';
    expect([await store.claim(key, 60_000), await store.claim(key, 60_000), await store.claim(fresh(), 60_000)]).toEqual(['first', 'replayed', 'first']);
    const keys = (await redis.command('KEYS', 'cg-test-1:*')) as string[];
    expect(keys).toContain(replayRedisKey('cg-test-1:', key));
    expect(keys.join(' ')).not.toMatch(/issuer|jti|secret/);
    expect(keys.every((k) => k.length === 'cg-test-1:'.length + 43)).toBe(true);
    const ttl = Number(await redis.command('PTTL', replayRedisKey('cg-test-1:', key)));
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('two replicas on one Redis: a key claimed on one is replayed on the other; of 20 concurrent claims one is first', async () => {
    const [a, b] = [await open(), await open()];
    const key = fresh();
    expect(await a.claim(key, 60_000)).toBe('first');
    expect(await b.claim(key, 60_000)).toBe('replayed');
    const raced = fresh();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).claim(raced, 60_000)));
    expect(results.filter((r) => r === 'first')).toHaveLength(1);
    expect(results.filter((r) => r === 'replayed')).toHaveLength(19);
  });

  it('a key expires with its ttl (PX) and can be claimed again', async () => {
    const store = await open();
    const key = fresh();
    expect(await store.claim(key, 150)).toBe('first');
    expect(await store.claim(key, 150)).toBe('replayed');
    // Redis says when it is gone (PTTL -2): the signal, not a sleep of the ttl.
    const deadline = Date.now() + 5000;
    while (Number(await redis.command('PTTL', replayRedisKey('callguard:replay:', key))) !== -2) {
      if (Date.now() > deadline) throw new Error('the key did not expire');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await store.claim(key, 150)).toBe('first');
  });

  it('killed: unavailable at once; restarted on the same port: claims work again without a new store', async () => {
    const recorder = createEventRecorder();
    const store = await open({ onEvent: recorder.onEvent });
    const kept = fresh();
    expect(await store.claim(kept, 60_000)).toBe('first');
    const lost = nextEvent(recorder, /lost the connection/);
    await redis.kill();
    const down = await timed(store.claim(fresh(), 60_000));
    expect(down.result).toBe('unavailable');
    expect(down.ms).toBeLessThan(20 + 200);
    await lost;
    expect(await store.claim(fresh(), 60_000)).toBe('unavailable');
    const back = nextEvent(recorder, /connected again/);
    await redis.restart();
    await untilClaiming(store);
    await back;
    expect(recorder.events.map((e) => e.issuer)).toEqual(recorder.events.map(() => 'replay'));
  });

  it('stopped (SIGSTOP): unavailable within about timeoutMs, then recovers on SIGCONT; a longer stop drops and remakes the connection', async () => {
    const recorder = createEventRecorder();
    const store = await open({ onEvent: recorder.onEvent });
    const kept = fresh();
    expect(await store.claim(kept, 60_000)).toBe('first');
    try {
      await redis.pause();
      const stalled = await timed(store.claim(fresh(), 60_000));
      console.info(`claim against a stopped Redis: ${stalled.result} after ${stalled.ms.toFixed(1)} ms (timeoutMs 20)`);
      expect(stalled.result).toBe('unavailable');
      redis.resume();
      await untilClaiming(store);
      expect(await store.claim(kept, 60_000)).toBe('replayed');

      // Stopped for longer than the socket timeout (1 s): the connection is given up and made anew.
      let connectionLost = false;
      void nextEvent(recorder, /lost the connection/).then(() => {
        connectionLost = true;
      });
      await redis.pause();
      const results: ClaimResult[] = [];
      // One claim per macrotask, as Check calls arrive: a claim refused synchronously (the socket already
      // destroyed, its 'close' not yet emitted) resolves in a microtask, and a loop of those alone would starve
      // the event loop, so 'close' would never come (CI ran 18 minutes into an out-of-memory RangeError).
      const deadline = Date.now() + 10_000;
      while (!connectionLost) {
        if (Date.now() > deadline) throw new Error(`no 'lost the connection' event within 10 s; events: ${recorder.events.map((e) => e.msg).join(' | ')}`);
        results.push(await store.claim(fresh(), 60_000));
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(new Set(results)).toEqual(new Set(['unavailable']));
    } finally {
      redis.resume();
    }
    await untilClaiming(store);
    expect(await store.claim(kept, 60_000)).toBe('replayed');
  });

  it('Redis answering errors (OOM with maxmemory 1, noeviction): unavailable, a warn event, and back once it accepts writes', async () => {
    const recorder = createEventRecorder();
    const store = await open({ onEvent: recorder.onEvent });
    expect(await store.claim(fresh(), 60_000)).toBe('first');
    await redis.command('CONFIG', 'SET', 'maxmemory', '1', 'maxmemory-policy', 'noeviction');
    try {
      const warned = recorder.next('warn');
      expect(await store.claim(fresh(), 60_000)).toBe('unavailable');
      expect((await warned).msg).toMatch(/a claim failed \(OOM/);
      expect(await store.claim(fresh(), 60_000)).toBe('unavailable');
    } finally {
      await redis.command('CONFIG', 'SET', 'maxmemory', '0');
    }
    const recovered = recorder.next('info');
    expect(await store.claim(fresh(), 60_000)).toBe('first');
    expect((await recovered).msg).toMatch(/claims succeed again/);
  });

  it('never rejects: a closed store and a Redis that is not there answer unavailable', async () => {
    const closed = await open();
    closed.close();
    await expect(Promise.resolve(closed.claim(fresh(), 60_000))).resolves.toBe('unavailable');

    const nowhere = await startRedisServer();
    await nowhere.kill();
    const recorder = createEventRecorder();
    const warned = recorder.next('warn');
    const store = await createRedisReplayStore({ url: nowhere.url, connectWaitMs: 300, onEvent: recorder.onEvent });
    stores.push(store);
    expect((await warned).msg).toMatch(/not reachable .*retrying in the background/);
    const down = await timed(store.claim(fresh(), 60_000));
    expect(down.result).toBe('unavailable');
    expect(down.ms).toBeLessThan(20 + 200);
    // Started after the store: it connects by itself.
    await nowhere.restart();
    await untilClaiming(store);
    await nowhere.stop();
  });

  it('loopback latency of 1000 sequential claims (recorded, not asserted)', async () => {
    const store = await open();
    const ms: number[] = [];
    for (let i = 0; i < 1000; i++) ms.push((await timed(store.claim(fresh(), 60_000))).ms);
    ms.sort((x, y) => x - y);
    console.info(`Redis claim on loopback: p50 ${ms[499]?.toFixed(3)} ms, p99 ${ms[989]?.toFixed(3)} ms, max ${ms[999]?.toFixed(3)} ms`);
    expect(ms).toHaveLength(1000);
  });
});

describeWithRedis('Redis replay store: AUTH from passwordFile, TLS (rediss://) with caFile', () => {
  let certs: ReturnType<typeof createTestCerts>;
  let redis: RedisServer;
  let dir: string;
  const stores: ReplayStore[] = [];
  beforeAll(async () => {
    certs = createTestCerts();
    const leaf = certs.leaf('redis-server', 'IP:127.0.0.1');
    redis = await startRedisServer({ password: 's3cret pass', tls: { certFile: leaf.certFile, keyFile: leaf.keyFile, caFile: join(certs.dir, 'ca.pem') } });
    dir = mkdtempSync(join(tmpdir(), 'callguard-redis-auth-'));
    writeFileSync(join(dir, 'password'), 's3cret pass\n');
    writeFileSync(join(dir, 'wrong'), 'nope\n');
  });
  afterAll(async () => {
    for (const store of stores.splice(0)) store.close();
    await redis?.stop();
    certs?.cleanup();
  });
  /** The store from config (files read as `serve` reads them) and what it said at start. */
  const replay = async (redisConfig: { url: string; passwordFile?: string; caFile?: string }): Promise<{ store: ReplayStore; said: string }> => {
    const recorder = createEventRecorder();
    const store = await createReplayStore(
      { maxEntries: 1000, redis: { timeoutMs: 20, keyPrefix: 'callguard:replay:', ...redisConfig } },
      { configFile: '/etc/callguard.yaml', connectWaitMs: 500, onEvent: recorder.onEvent },
    );
    stores.push(store);
    return { store, said: recorder.events.map((e) => `${e.level} ${e.msg}`).join('\n') };
  };

  it.each([
    { name: 'the password from passwordFile (its newline dropped)', password: 'password', want: 'first', said: /^info .*: connected$/ },
    { name: 'a wrong password', password: 'wrong', want: 'unavailable', said: /^warn .*not reachable \(WRONGPASS/ },
    { name: 'no password', password: undefined, want: 'unavailable', said: /^warn .*not reachable \(NOAUTH/ },
  ])('plain: $name → $want', async ({ password, want, said }) => {
    const store = await replay({ url: redis.url, ...(password !== undefined ? { passwordFile: join(dir, password) } : {}) });
    expect(await store.store.claim(`auth ${password}`, 60_000)).toBe(want);
    expect(store.said).toMatch(said);
    expect(store.said).not.toContain('s3cret');
  });

  it.each([
    { name: 'a server certificate from caFile', ca: true, want: 'first', said: /^info .*: connected$/ },
    { name: 'a server certificate from an unknown CA (Node default bundle)', ca: false, want: 'unavailable', said: /^warn .*not reachable \(.*certificate/ },
  ])('rediss: $name → $want', async ({ ca, want, said }) => {
    const store = await replay({
      url: `rediss://127.0.0.1:${redis.tlsPort}/0`,
      passwordFile: join(dir, 'password'),
      ...(ca ? { caFile: join(certs.dir, 'ca.pem') } : {}),
    });
    expect(await store.store.claim(`tls ${ca}`, 60_000)).toBe(want);
    expect(store.said).toMatch(said);
  });
});
