import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse, stringify } from 'yaml';
import { buildCallguard, type Callguard } from '../../src/build-callguard.js';
import { parseConfig } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/types.js';
import { ConfigError } from '../../src/errors.js';
import { type RunningServer, startGrpcServer } from '../../src/server/grpc-server.js';
import { CHARGE_SCHEMA, fixtureConfigYaml, ORDERS_SCHEMA } from '../helpers/callguard-fixture.js';
import { createCheckClient, summarize } from '../helpers/envoy-check.js';
import { createTestIssuer, type TestIssuer } from '../helpers/jwt-issuer.js';
import { createMemoryDestination } from '../helpers/memory-destination.js';

type Json = Record<string, unknown>;

/**
 * Hot reload (issue 11, item 2) on the real gRPC server under load: config A has no `invoices.create`,
 * config B adds it. While four clients call without pause, the config is swapped A→B→A… ten times. Every
 * call is answered (no gRPC error), every answer agrees with its decision line, and the line's `config`
 * says which config decided: B's allow /invoices, A's answer 404. A bad config is refused and changes
 * nothing.
 */
describe('reload under load', () => {
  let issuer: TestIssuer;
  let dir: string;
  let callguard: Callguard;
  let server: RunningServer;
  let client: ReturnType<typeof createCheckClient>;
  const log = createMemoryDestination();
  let a: Config;
  let b: Config;

  const variant = (change?: (config: Json) => void): Config => {
    const config = parse(fixtureConfigYaml(issuer.jwksUrl, issuer.url)) as Json;
    change?.(config);
    return parseConfig(stringify(config), join(dir, 'callguard.yaml'));
  };

  beforeAll(async () => {
    issuer = await createTestIssuer();
    dir = mkdtempSync(join(tmpdir(), 'callguard-reload-'));
    writeFileSync(join(dir, 'orders.json'), JSON.stringify(ORDERS_SCHEMA));
    writeFileSync(join(dir, 'charge.json'), JSON.stringify(CHARGE_SCHEMA));
    a = variant();
    b = variant((config) => {
      (config['functions'] as Json[]).push({
        name: 'invoices.create',
        match: { method: 'POST', path: '/invoices' },
        allow: [{ issuer: 'corp', groups: ['orders-writers'] }],
      });
    });
    callguard = await buildCallguard(a, { decisionLog: log.stream });
    server = await startGrpcServer(a.server, callguard.handleCheck);
    client = createCheckClient(server.address);
  });
  afterAll(async () => {
    client?.close();
    await server?.close(1000);
    await callguard?.close();
    await issuer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ten swaps while four clients call: nothing fails, each answer is its line, each line names the config that decided it', async () => {
    const writer = await issuer.mint({ claims: { sub: 'alice', groups: ['orders-writers'] } });
    const digestA = callguard.policyDigest();
    let done = false;
    const answers: { path: string; allow: boolean; code: string | undefined; decisionId: string }[] = [];
    const errors: unknown[] = [];
    const callLoop = async (path: string): Promise<void> => {
      while (!done) {
        try {
          const withBody = path !== '/invoices'; // invoices.create takes no input
          const headers = { authorization: `Bearer ${writer}`, ...(withBody ? { 'content-type': 'application/json' } : {}) };
          const s = summarize(await client.check({ method: 'POST', path, headers, ...(withBody ? { body: '{}' } : {}) }));
          answers.push({ path, allow: s.allow, code: s.allow ? undefined : s.problem.code, decisionId: s.headers['x-callguard-decision-id'] ?? '' });
        } catch (err) {
          errors.push(err);
        }
      }
    };
    const loops = [callLoop('/invoices'), callLoop('/invoices'), callLoop('/orders/1/approve'), callLoop('/invoices')];
    const digests = new Set<string>([digestA]);
    for (let i = 0; i < 10; i++) {
      const result = await callguard.reload(i % 2 === 0 ? b : a);
      digests.add(result.digest);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    done = true;
    await Promise.all(loops);

    expect(errors).toEqual([]);
    expect(digests.size).toBe(2);
    const digestB = [...digests].find((d) => d !== digestA);
    const lines = new Map((log.lines as unknown as Json[]).filter((l) => typeof l['decisionId'] === 'string').map((l) => [l['decisionId'] as string, l]));
    const seen = new Map<string, number>();
    for (const answer of answers) {
      const line = lines.get(answer.decisionId);
      expect(line, `no line for ${answer.decisionId}`).toBeDefined();
      expect([line?.['outcome'], line?.['code']]).toEqual([answer.allow ? 'allow' : 'deny', answer.code ?? null]);
      const config = String(line?.['config']);
      if (answer.path === '/invoices') {
        // B allows it; under A the function does not exist.
        expect([config, answer.allow ? 'allow' : answer.code]).toEqual(config === digestB ? [digestB, 'allow'] : [digestA, 'ERR_FUNCTION_UNKNOWN']);
      } else {
        expect([digestA, digestB]).toContain(config);
      }
      seen.set(config, (seen.get(config) ?? 0) + 1);
    }
    // Both configs really decided calls while the load ran.
    expect(seen.size).toBe(2);
    // Each swap is in the decision log: a config line naming the digest in charge from then on.
    const configLines = (log.all as unknown as Json[]).filter((l) => l['msg'] === 'decision-log-config').map((l) => l['configDigest']);
    expect(configLines).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? digestB : digestA)));
  });

  it('a call still deciding when a reload lands is logged with the routes of the config that decided it', async () => {
    const digestA = callguard.policyDigest();
    // C renames the path parameter of orders.get: a line described by C's routes would say /orders/{orderId}.
    const c = variant((config) => {
      ((config['functions'] as Json[])[1] as Json)['match'] = { method: 'GET', path: '/orders/{orderId}', logParams: ['orderId'] };
    });
    // A token signed by a key callguard has not fetched: its call waits on a JWKS refetch, held by the issuer.
    const k2 = await issuer.createKey('RS256');
    issuer.publish(issuer.rs256, issuer.es256, k2);
    const reader = await issuer.mint({ key: k2, claims: { sub: 'bob', groups: ['orders-readers'] } });
    const fetchesBefore = issuer.requests.jwks;
    issuer.setMode('hang');
    const held = client.check({ method: 'GET', path: '/orders/7', headers: { authorization: `Bearer ${reader}` } });
    await vi.waitUntil(() => issuer.requests.jwks > fetchesBefore, { timeout: 5000 });
    issuer.setMode('ok');
    const swapped = await callguard.reload(c);
    expect(swapped.changed).toBe(true);
    const heldAnswer = summarize(await held);
    const after = summarize(await client.check({ method: 'GET', path: '/orders/8', headers: { authorization: `Bearer ${reader}` } }));
    await callguard.reload(a);

    const lineOf = (answer: ReturnType<typeof summarize>): Json | undefined =>
      (log.lines as unknown as Json[]).find((l) => l['decisionId'] === answer.headers['x-callguard-decision-id']);
    const heldLine = lineOf(heldAnswer);
    expect([heldLine?.['config'], heldLine?.['function'], heldLine?.['request']]).toEqual([
      digestA,
      'orders.get',
      expect.objectContaining({ route: '/orders/{id}', params: { id: '7' } }),
    ]);
    const afterLine = lineOf(after);
    expect([after.allow, afterLine?.['config'], afterLine?.['request']]).toEqual([
      true,
      swapped.digest,
      expect.objectContaining({ route: '/orders/{orderId}', params: { orderId: '8' } }),
    ]);
  });

  it("the credential cache's counters carry on across reloads (they are counters over the process's life)", async () => {
    const jwt = (): { hits: number; misses: number } => callguard.credentialCaches().find((c) => c.kind === 'jwt') ?? { hits: 0, misses: 0 };
    const reader = await issuer.mint({ claims: { sub: 'carol', groups: ['orders-readers'] } });
    const call = async (): Promise<boolean> =>
      summarize(await client.check({ method: 'GET', path: '/orders/1', headers: { authorization: `Bearer ${reader}` } })).allow;
    expect([await call(), await call()]).toEqual([true, true]);
    const before = jwt();
    await callguard.reload(a);
    expect(jwt()).toEqual(before);
    // The fresh core's cache is empty: a miss, then a hit, on top of the totals before.
    expect([await call(), await call()]).toEqual([true, true]);
    expect(jwt()).toEqual({ ...before, hits: before.hits + 1, misses: before.misses + 1 });
  });

  it.each([
    {
      name: 'a rule naming an unknown issuer',
      change: (config: Json) => (((config['functions'] as Json[])[0] as Json)['allow'] = [{ issuer: 'nobody', groups: ['x'] }]),
      problem: { path: '/functions/0/allow/0/issuer', message: /unknown/ },
    },
    {
      name: 'a schema file that is not there',
      change: (config: Json) => ((((config['functions'] as Json[])[0] as Json)['input'] as Json)['schema'] = 'missing.json'),
      problem: { path: '/functions/0/input/schema', message: /cannot read schema file/ },
    },
    {
      name: 'another listen address',
      change: (config: Json) => (config['server'] = { listen: '127.0.0.1:1' }),
      problem: { path: '/server', message: /only a restart applies it/ },
    },
  ])('refused: $name; the running config keeps serving', async ({ change, problem }) => {
    const before = callguard.policyDigest();
    let refused: unknown;
    try {
      await callguard.reload(variant(change));
    } catch (err) {
      refused = err;
    }
    // parseConfig itself may refuse the file (as serve's loadConfig would, before reload is asked).
    if (refused === undefined) throw new Error('reload accepted a bad config');
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).problems).toContainEqual(
      expect.objectContaining({ file: join(dir, 'callguard.yaml'), path: problem.path, message: expect.stringMatching(problem.message) }),
    );
    expect(callguard.policyDigest()).toBe(before);
    const writer = await issuer.mint({ claims: { sub: 'alice', groups: ['orders-writers'] } });
    const s = summarize(await client.check({ method: 'GET', path: '/orders/1', headers: { authorization: `Bearer ${writer}` } }));
    expect(s.allow).toBe(true);
  });
});

/**
 * Review finding: a reload with the config file and schemas unchanged still reads key files anew, so
 * removing a leaked key from a `jwksFile` and sending SIGHUP takes effect (the digest stays: `changed` false).
 */
describe('reload re-reads key files', () => {
  it('a key removed from jwksFile stops verifying after reload; the config digest is unchanged', async () => {
    const { exportJWK, generateKeyPair, SignJWT } = await import('jose');
    const dir = mkdtempSync(join(tmpdir(), 'callguard-reload-keys-'));
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwksFile = join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'leaked', alg: 'ES256', use: 'sig' }] }));
    const yaml = `server: { listen: "127.0.0.1:0" }
identity:
  issuers:
    - { name: corp, issuer: https://idp.example, audiences: [callguard], algorithms: [ES256], jwksFile: ${jwksFile} }
functions:
  - name: orders.get
    match: { method: GET, path: "/orders/{id}" }
    allow: [{ issuer: corp, groups: [readers] }]
`;
    const config = parseConfig(yaml, join(dir, 'callguard.yaml'));
    const log = createMemoryDestination();
    const cg = await buildCallguard(config, { decisionLog: log.stream });
    const server = await startGrpcServer(config.server, cg.handleCheck);
    const client = createCheckClient(server.address);
    try {
      const token = await new SignJWT({ groups: ['readers'] })
        .setProtectedHeader({ alg: 'ES256', kid: 'leaked' })
        .setIssuer('https://idp.example')
        .setAudience('callguard')
        .setSubject('mallory')
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(privateKey);
      const call = async () => {
        const s = summarize(await client.check({ method: 'GET', path: '/orders/1', headers: { authorization: `Bearer ${token}` } }));
        return s.allow ? 'allow' : s.problem.code;
      };
      expect(await call()).toBe('allow');
      writeFileSync(jwksFile, JSON.stringify({ keys: [] }));
      const result = await cg.reload(parseConfig(yaml, join(dir, 'callguard.yaml')));
      expect([result.changed, result.digest]).toEqual([false, cg.policyDigest()]);
      expect(await call()).not.toBe('allow');
    } finally {
      client.close();
      await server.close(1000);
      await cg.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
