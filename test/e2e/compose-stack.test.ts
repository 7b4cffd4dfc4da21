import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PORTS, REPO_ROOT } from '../../scripts/lib/stack-config.js';
import { describeNeeding } from '../helpers/describe-needing.js';
import { compose, composeDecisions, containerAddress, needsCompose, type ReplicaDecision, type Run, run } from '../helpers/docker-compose.js';

// The README's compose section, run verbatim on a real Docker engine (CI: scripts/docker-engine.sh), then the
// same stack with three callguard replicas. Slow (an image build on a vfs engine): minutes, not seconds.
const README = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
const section = README.slice(README.indexOf('### With Docker: `docker compose up --build`'), README.indexOf('### Latency'));
const readmeScript = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
/** The status each curl of the README must get, from the comment above it (`# 401: no token`). */
const readmeStatuses = [...readmeScript.matchAll(/^# (\d{3})\b.*\ncurl /gm)].map((m) => Number(m[1]));

interface HttpResponse {
  readonly status: number;
  readonly requestId: string;
}
/** The responses `curl -i` printed, in order: status line and x-request-id header. */
function curlResponses(output: string): HttpResponse[] {
  // A body without a final newline runs into the next status line: not anchored to a line start.
  return [...output.matchAll(/HTTP\/[\d.]+ (\d{3})[^\n]*\n([\s\S]*?)\r?\n\r?\n/g)].map((m) => ({
    status: Number(m[1]),
    requestId: /^x-request-id: *(\S+)/im.exec(m[2] ?? '')?.[1] ?? '',
  }));
}

/** 'open' when a TCP connection is accepted, else the error code (ECONNREFUSED, ETIMEDOUT, …). */
function probe(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(3000, () => {
      socket.destroy();
      resolve('ETIMEDOUT');
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve('open');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

const ORDER = '{"sku":"ABC-123","quantity":2,"card":{"number":"4111111111111111","expiry":"12/30"}}';

/** POST /orders through Envoy on the published port, over one kept-alive connection pool. */
function order(agent: Agent, ca: Buffer, token: string): Promise<HttpResponse> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: DEFAULT_PORTS.envoy,
        servername: 'localhost',
        method: 'POST',
        path: '/orders',
        ca,
        agent,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(ORDER) },
        timeout: 10_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, requestId: String(res.headers['x-request-id'] ?? '') }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, requestId: '' }));
    req.end(ORDER);
  });
}

/** Sends `total` orders, `concurrency` at a time; `after(n)` runs (not awaited) once n calls have completed. */
async function orders(agent: Agent, ca: Buffer, token: string, total: number, concurrency: number, at?: { n: number; run: () => Promise<unknown> }) {
  const results: HttpResponse[] = [];
  let started = 0;
  let side: Promise<unknown> = Promise.resolve();
  const worker = async () => {
    while (started < total) {
      started += 1;
      results.push(await order(agent, ca, token));
      if (at !== undefined && results.length === at.n) side = at.run();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await side;
  return results;
}

const byRequest = (decisions: readonly ReplicaDecision[], ids: readonly string[]) => {
  const wanted = new Set(ids);
  const lines = new Map<string, ReplicaDecision[]>();
  for (const d of decisions) if (wanted.has(d.requestId)) lines.set(d.requestId, [...(lines.get(d.requestId) ?? []), d]);
  return lines;
};

describeNeeding(needsCompose, 'docker compose: the README commands on a real engine', () => {
  let dir: string;
  let readmeRun: Run;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'callguard-compose-stack-'));
    await run('docker', ['compose', 'down', '-v', '--remove-orphans'], { timeoutMs: 300_000 });
    // Verbatim, in a scratch directory (ca.crt, client.crt, client.key land there); COMPOSE_FILE names the repo's file.
    readmeRun = await run('bash', ['-euo', 'pipefail', '-c', readmeScript], { cwd: dir, timeoutMs: 40 * 60_000 });
  }, 41 * 60_000);

  afterAll(async () => {
    if (process.env['COMPOSE_KEEP'] === undefined) await run('docker', ['compose', 'down', '-v', '--remove-orphans'], { timeoutMs: 300_000 });
    await rm(dir, { recursive: true, force: true });
  }, 310_000);

  it('the README block states 200, 401, 403, 400 and an mTLS 200, and runs to the end', () => {
    expect(readmeScript).toMatch(/^docker compose up --build --wait$/m);
    expect(readmeStatuses).toEqual([200, 401, 403, 400, 200]);
    expect(readmeRun.code, readmeRun.stderr).toBe(0);
  });

  it('each curl gets the status its README comment states', () => {
    expect(curlResponses(readmeRun.stdout).map((r) => r.status)).toEqual(readmeStatuses);
  });

  it('docker compose logs callguard: exactly one decision line per call, with the status the caller got', async () => {
    const responses = curlResponses(readmeRun.stdout);
    expect(responses.every((r) => r.requestId !== '')).toBe(true);
    const lines = byRequest(
      await composeDecisions(),
      responses.map((r) => r.requestId),
    );
    for (const response of responses) {
      const logged = lines.get(response.requestId) ?? [];
      expect(logged, response.requestId).toHaveLength(1);
      expect(logged[0]?.status).toBe(response.status);
    }
  });

  it('no admin port is reachable from the host; the service ports are (same addresses)', async () => {
    const envoy = await containerAddress('callguard-envoy-1');
    const callguard = await containerAddress('callguard-callguard-1');
    expect(await probe(envoy, DEFAULT_PORTS.envoy)).toBe('open');
    expect(await probe(callguard, DEFAULT_PORTS.callguard)).toBe('open');
    // Envoy's admin (9901) and callguard's (9192) bind 127.0.0.1 inside their containers and are not published.
    expect(await probe(envoy, DEFAULT_PORTS.envoyAdmin)).toBe('ECONNREFUSED');
    expect(await probe(callguard, 9192)).toBe('ECONNREFUSED');
    expect(await probe('127.0.0.1', DEFAULT_PORTS.envoyAdmin)).toBe('ECONNREFUSED');
    expect(await probe('127.0.0.1', 9192)).toBe('ECONNREFUSED');
  });

  it('callguard runs the production image: node dist/cli/main.js as `node`, read-only root filesystem', async () => {
    const inspect = JSON.parse(await run('docker', ['inspect', 'callguard-callguard-1']).then((r) => r.stdout)) as Array<{
      Path: string;
      Args: string[];
      Config: { User: string };
      HostConfig: { ReadonlyRootfs: boolean };
    }>;
    const container = inspect[0];
    expect([container?.Path, ...(container?.Args ?? [])].slice(0, 3)).toEqual(['node', 'dist/cli/main.js', 'serve']);
    expect(container?.Config.User).toBe('node');
    expect(container?.HostConfig.ReadonlyRootfs).toBe(true);
    const tsx = await run('docker', ['compose', 'exec', '-T', 'callguard', 'node', '-e', "import('tsx').then(() => process.exit(1), () => process.exit(0))"]);
    expect(tsx.code, 'tsx must not be in the production image').toBe(0);
  });

  describe('three replicas behind Envoy', () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    let ca: Buffer;
    let token: string;

    beforeAll(async () => {
      ca = readFileSync(path.join(dir, 'ca.crt'));
      token = (
        await compose([
          'run',
          '--rm',
          '-T',
          '--entrypoint',
          'node',
          'pki',
          '--import',
          'tsx',
          'scripts/mint-token.ts',
          '--dir',
          '/stack/pki',
          '--groups',
          'orders-writers',
        ])
      ).trim();
      await compose(['up', '--wait', '--scale', 'callguard=3'], 600_000);
      // Each new replica's first Check pays for a TLS handshake and JIT (the README's warm-up advice): send calls
      // until every replica has answered one (bounded).
      for (let i = 0; i < 30; i += 1) {
        await orders(agent, ca, token, 6, 2);
        const replicas = new Set((await composeDecisions()).map((d) => d.replica));
        if (replicas.size >= 3) break;
      }
    }, 700_000);
    afterAll(() => agent.destroy());

    it('Envoy spreads the calls across all three replicas', async () => {
      const results = await orders(agent, ca, token, 90, 3);
      expect(results.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
      const lines = byRequest(
        await composeDecisions(),
        results.map((r) => r.requestId),
      );
      const perReplica: Record<string, number> = {};
      for (const [id, logged] of lines) {
        expect(logged, id).toHaveLength(1);
        const replica = logged[0]?.replica ?? '';
        perReplica[replica] = (perReplica[replica] ?? 0) + 1;
      }
      expect(lines.size).toBe(90);
      expect(Object.keys(perReplica).sort()).toEqual(['callguard-1', 'callguard-2', 'callguard-3']);
      // Round robin: 30 each; at least 15 each whatever the timing.
      for (const count of Object.values(perReplica)) expect(count).toBeGreaterThanOrEqual(15);
    }, 120_000);

    it('one replica stopped mid-run: not one failed call, one decision line each', async () => {
      const results = await orders(agent, ca, token, 300, 4, { n: 50, run: () => run('docker', ['stop', 'callguard-callguard-2'], { timeoutMs: 60_000 }) });
      const failed = results.filter((r) => r.status !== 200);
      expect(failed).toEqual([]);
      const lines = byRequest(
        await composeDecisions(),
        results.map((r) => r.requestId),
      );
      expect(lines.size).toBe(results.length);
      for (const [id, logged] of lines) expect(logged, id).toHaveLength(1);
      const states = await compose(['ps', '-a', '--format', '{{.Name}} {{.State}}', 'callguard']);
      expect(states).toMatch(/callguard-callguard-2 exited/);
    }, 300_000);
  });
});
