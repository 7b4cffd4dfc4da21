import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckClient, summarize } from '../helpers/envoy-check.js';
import { createTestIssuer, type TestIssuer } from '../helpers/jwt-issuer.js';

// `callguard serve` itself (one node process, so SIGTERM reaches it): the admin listener as operators get it.
const CLI = join(import.meta.dirname, '../../src/cli/main.ts');
const dir = mkdtempSync(join(tmpdir(), 'callguard-admin-'));

const config = (issuer: TestIssuer, adminListen: string) => `
server: { listen: "127.0.0.1:0" }
admin: { listen: "${adminListen}" }
identity:
  issuers:
    - name: corp
      issuer: ${issuer.url}
      audiences: [callguard]
      algorithms: [RS256]
      jwksUrl: ${issuer.jwksUrl}
      # A JWKS down at start is retried every second in the background, with no call to trigger it.
      fetch: { timeoutMs: 2000, unknownKidCooldownSeconds: 1 }
functions:
  - name: orders.get
    match: { method: GET, path: "/orders/{id}" }
    allow: [{ issuer: corp, groups: [orders-readers] }]
  - name: reports.run
    match: { method: POST, path: /reports }
    allow: [{ issuer: corp, groups: [reporters] }]
decisionLog: { destination: ${join(dir, 'decisions.log')} }
`;

/** The ops log (stderr) as parsed lines; `next` waits for the first line after the ones already seen that matches. */
function opsLog(child: ChildProcess) {
  const lines: Interface = createInterface({ input: child.stderr as NonNullable<ChildProcess['stderr']> });
  const iterator = lines[Symbol.asyncIterator]();
  return {
    async next(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
      for (;;) {
        const { value, done } = await iterator.next();
        if (done) throw new Error('callguard exited before the expected ops line');
        const line = JSON.parse(value as string) as Record<string, unknown>;
        if (match(line)) return line;
      }
    },
  };
}

const get = async (address: string, path: string) => {
  const response = await fetch(`http://${address}${path}`);
  return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
};

/** The value of one series in a Prometheus exposition (`name{labels}` exactly as printed), or undefined. */
function sample(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('callguard serve: the admin listener', () => {
  let issuer: TestIssuer;
  let child: ChildProcess;
  let ops: ReturnType<typeof opsLog>;
  let grpcAddress = '';
  let adminAddress = '';

  beforeAll(async () => {
    issuer = await createTestIssuer();
    issuer.setMode('error'); // the JWKS answers 503 until the test says otherwise
    writeFileSync(join(dir, 'callguard.yaml'), config(issuer, '127.0.0.1:0'));
    child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--config', join(dir, 'callguard.yaml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    ops = opsLog(child);
    grpcAddress = (await ops.next((l) => l['msg'] === 'callguard listening'))['address'] as string;
    adminAddress = (await ops.next((l) => l['msg'] === 'admin listening'))['address'] as string;
  }, 60_000);
  afterAll(async () => {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    await issuer.close();
  });

  it('listens on loopback, after the gRPC server', () => {
    expect(grpcAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(adminAddress).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('is live at once, and not ready while the JWKS has never been fetched: 503 naming the issuer', async () => {
    expect((await get(adminAddress, '/healthz')).status).toBe(200);
    const ready = await get(adminAddress, '/readyz');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toEqual({ ready: false, notReady: [{ check: 'keys', source: 'corp', problem: 'signing keys not fetched yet' }] });
    const metrics = (await get(adminAddress, '/metrics')).body;
    expect(sample(metrics, 'callguard_key_fetch_ok{issuer="corp"}')).toBe(0);
    expect(sample(metrics, 'callguard_key_age_seconds{issuer="corp"}')).toBeUndefined();
  });

  it('becomes ready once the JWKS answers, with no call made', async () => {
    issuer.setMode('ok');
    await ops.next((l) => l['issuer'] === 'corp' && l['msg'] === 'signing keys fetched');
    const ready = await get(adminAddress, '/readyz');
    expect([ready.status, JSON.parse(ready.body)]).toEqual([200, { ready: true, notReady: [] }]);
  }, 20_000);

  it('counts the Checks it answers, by function, outcome and code, and their latency', async () => {
    const client = createCheckClient(grpcAddress);
    const token = await issuer.mint({ claims: { groups: ['orders-readers'] } });
    const bearer = { authorization: `Bearer ${token}` };
    try {
      const answers = [
        await client.check({ tls: true, method: 'GET', path: '/orders/7', headers: bearer }),
        await client.check({ tls: true, method: 'GET', path: '/orders/8', headers: bearer }),
        await client.check({ tls: true, method: 'POST', path: '/reports', headers: bearer }),
        await client.check({ tls: true, method: 'GET', path: '/orders/9' }),
        await client.check({ tls: true, method: 'GET', path: '/nowhere', headers: bearer }),
      ].map((r) => {
        const s = summarize(r);
        return s.allow ? 'allow' : s.problem.code;
      });
      expect(answers).toEqual(['allow', 'allow', 'ERR_NOT_PERMITTED', 'ERR_CREDENTIAL_MISSING', 'ERR_FUNCTION_UNKNOWN']);
    } finally {
      client.close();
    }
    const metrics = await get(adminAddress, '/metrics');
    expect(metrics.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    const expected: Record<string, number> = {
      'callguard_decisions_total{function="orders.get",outcome="allow",code=""}': 2,
      'callguard_decisions_total{function="reports.run",outcome="allow",code=""}': 0,
      'callguard_decisions_total{function="reports.run",outcome="deny",code="ERR_NOT_PERMITTED"}': 1,
      'callguard_decisions_total{function="orders.get",outcome="deny",code="ERR_CREDENTIAL_MISSING"}': 1,
      'callguard_decisions_total{function="(none)",outcome="deny",code="ERR_FUNCTION_UNKNOWN"}': 1,
      callguard_decision_duration_seconds_count: 5,
      'callguard_decision_duration_seconds_bucket{le="+Inf"}': 5,
      // The second call with the token hit the cache; the first missed it (and the calls without a function or token never looked).
      'callguard_token_cache_hits_total{kind="jwt"}': 2,
      'callguard_token_cache_misses_total{kind="jwt"}': 1,
      'callguard_key_fetch_ok{issuer="corp"}': 1,
      callguard_decision_log_healthy: 1,
      callguard_calls_in_flight: 0,
      'callguard_reloads_total{outcome="ok"}': 0,
    };
    for (const [series, value] of Object.entries(expected)) expect([series, sample(metrics.body, series)]).toEqual([series, value]);
    expect(sample(metrics.body, 'callguard_key_age_seconds{issuer="corp"}')).toBeGreaterThanOrEqual(0);
    // Node's process metrics come with them.
    expect(sample(metrics.body, 'process_cpu_seconds_total')).toBeGreaterThan(0);
  });

  it('counts configuration reloads (SIGHUP) by outcome', async () => {
    const file = join(dir, 'callguard.yaml');
    const good = config(issuer, '127.0.0.1:0');
    child.kill('SIGHUP');
    await ops.next((l) => l['reload'] === 'ok');
    writeFileSync(file, `${good}\nbogus: true\n`);
    child.kill('SIGHUP');
    await ops.next((l) => l['reload'] === 'refused');
    writeFileSync(file, good);
    const metrics = (await get(adminAddress, '/metrics')).body;
    expect([sample(metrics, 'callguard_reloads_total{outcome="ok"}'), sample(metrics, 'callguard_reloads_total{outcome="refused"}')]).toEqual([1, 1]);
  }, 20_000);

  it('on SIGTERM: drains and exits 0', async () => {
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  }, 20_000);
});

describe('callguard serve: an admin address it cannot bind', () => {
  it('refuses to start, naming the file and admin.listen', async () => {
    const issuer = await createTestIssuer();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(taken.address() as AddressInfo).port}`;
    try {
      writeFileSync(join(dir, 'taken.yaml'), config(issuer, address));
      const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--config', join(dir, 'taken.yaml')], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      const [code] = await once(child, 'exit');
      expect(code).toBe(1);
      expect(stderr).toMatch(new RegExp(`taken\\.yaml: /admin/listen: cannot listen on "${address}": EADDRINUSE\\nrefusing to start`));
    } finally {
      taken.close();
      await issuer.close();
    }
  }, 60_000);
});
