import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildCallguard, type Callguard } from '../../src/build-callguard.js';
import { parseConfig } from '../../src/config/load-config.js';
import { type RunningServer, startGrpcServer } from '../../src/server/grpc-server.js';
import { CHARGE_SCHEMA, fixtureConfigYaml, ORDERS_SCHEMA } from '../helpers/callguard-fixture.js';
import { checkHealth, createCheckClient, summarize } from '../helpers/envoy-check.js';
import { createTestIssuer, type TestIssuer } from '../helpers/jwt-issuer.js';

/**
 * The decision log's real failure modes, end to end through the gRPC server: a full disk, a reader
 * that dies, a reader that stops reading. In each, no call is allowed that has no line, calls are
 * refused only while the sink fails, and callguard recovers by itself.
 */
let issuer: TestIssuer;
let token: string;
const running: { callguard: Callguard; server: RunningServer; client: ReturnType<typeof createCheckClient> }[] = [];
const readers: ChildProcess[] = [];

beforeAll(async () => {
  issuer = await createTestIssuer();
  token = await issuer.mint({ claims: { sub: 'alice', groups: ['orders-readers'] } });
});
afterEach(async () => {
  for (const r of readers.splice(0)) {
    r.kill('SIGCONT');
    r.kill('SIGKILL');
  }
  for (const { callguard, server, client } of running.splice(0)) {
    client.close();
    await server.close(500);
    await callguard.close();
  }
});
afterAll(async () => {
  await issuer.close();
});

async function start(decisionLog: string) {
  const dir = mkdtempSync(join(tmpdir(), 'callguard-faults-'));
  writeFileSync(join(dir, 'orders.json'), JSON.stringify(ORDERS_SCHEMA));
  writeFileSync(join(dir, 'charge.json'), JSON.stringify(CHARGE_SCHEMA));
  const config = parseConfig(`${fixtureConfigYaml(issuer.jwksUrl, issuer.url)}\ndecisionLog: ${decisionLog}\n`, join(dir, 'callguard.yaml'));
  const callguard = await buildCallguard(config, { decisionLogRetryMs: 20 });
  const server = await startGrpcServer(config.server, callguard.handleCheck, () => callguard.log.healthy());
  const client = createCheckClient(server.address);
  running.push({ callguard, server, client });
  const call = async (i: number) =>
    summarize(await client.check({ method: 'GET', path: `/orders/${i}`, headers: { authorization: `Bearer ${token}`, 'x-request-id': `r-${i}` } }));
  return { dir, call, health: () => checkHealth(server.address), callguard };
}

/** A FIFO and a `cat` reading it into a file. */
function fifoWithReader(dir: string) {
  const fifo = join(dir, 'decisions.fifo');
  spawnSync('mkfifo', [fifo]);
  let n = 0;
  const outputs: string[] = [];
  const startReader = (): ChildProcess => {
    const out = join(dir, `read-${n++}.log`);
    outputs.push(out);
    const reader = spawn('sh', ['-c', `exec cat "${fifo}" > "${out}"`], { stdio: 'ignore' });
    readers.push(reader);
    return reader;
  };
  return {
    fifo,
    startReader,
    lines: () =>
      outputs.flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l)),
      ),
  };
}

async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const allowedIds = (answers: ReturnType<typeof summarize>[]) => answers.flatMap((a) => (a.allow ? [a.headers['x-callguard-decision-id']] : []));

describe('decision log faults', () => {
  it('/dev/full: 100 parallel calls, none allowed, NOT_SERVING', async () => {
    const cg = await start('{ destination: /dev/full }');
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => cg.call(i)));
    expect(answers.filter((a) => a.allow)).toEqual([]);
    expect(new Set(answers.map((a) => (a.allow ? 'allow' : a.problem.code)))).toEqual(new Set(['ERR_DECISION_LOG_UNAVAILABLE']));
    expect(await cg.health()).toBe('NOT_SERVING');
  });

  it('a reader that dies (EPIPE): refused while it is gone, allowed again once a new reader opens the FIFO', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'callguard-fifo-'));
    const f = fifoWithReader(dir);
    const reader = f.startReader();
    await new Promise((resolve) => setTimeout(resolve, 100)); // cat opens the FIFO; callguard's open needs a reader
    const cg = await start(`{ destination: ${f.fifo}, maxWriteMs: 200 }`);
    const before = await Promise.all(Array.from({ length: 20 }, (_, i) => cg.call(i)));
    expect(before.every((a) => a.allow)).toBe(true);

    reader.kill('SIGKILL');
    const during = await eventually(
      () => cg.call(100),
      (a) => !a.allow,
    );
    expect(during.allow ? 'allow' : during.problem.code).toBe('ERR_DECISION_LOG_UNAVAILABLE');
    expect(await cg.health()).toBe('NOT_SERVING');

    f.startReader();
    const after = await eventually(
      () => cg.call(200),
      (a) => a.allow,
    );
    expect(after.allow).toBe(true);
    expect(await cg.health()).toBe('SERVING');

    await eventually(
      async () => f.lines().length,
      () => f.lines().some((l) => l.decisionId === (after.allow ? after.headers['x-callguard-decision-id'] : '')),
    );
    const lines = f.lines();
    const logged = new Set(lines.map((l) => l.decisionId));
    for (const id of allowedIds([...before, after])) expect(logged.has(id)).toBe(true);
    expect(lines.find((l) => l.msg === 'decision-log-gap')).toMatchObject({ level: 'error', failure: expect.stringContaining('EPIPE') });
  });

  it('a reader that stops reading: refused while the write is stuck, every waiting call answered once it resumes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'callguard-fifo-'));
    const f = fifoWithReader(dir);
    const reader = f.startReader();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const cg = await start(`{ destination: ${f.fifo}, maxWriteMs: 200 }`);
    reader.kill('SIGSTOP');
    // The pipe holds 64 KiB: fill it until a write cannot complete, then the log stalls.
    const waiting: Promise<ReturnType<typeof summarize>>[] = [];
    let refused: ReturnType<typeof summarize> | undefined;
    for (let i = 0; i < 2000 && refused === undefined; i++) {
      waiting.push(cg.call(i));
      if (i % 50 === 49) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        const probe = await Promise.race([cg.call(10_000 + i), new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 100))]);
        if (probe !== undefined && !probe.allow) refused = probe;
      }
    }
    expect(refused?.allow === false ? refused.problem.code : refused).toBe('ERR_DECISION_LOG_UNAVAILABLE');
    expect(await cg.health()).toBe('NOT_SERVING');

    reader.kill('SIGCONT');
    const answered = await Promise.all(waiting);
    const after = await eventually(
      () => cg.call(99_999),
      (a) => a.allow,
    );
    expect(after.allow).toBe(true);
    expect(await cg.health()).toBe('SERVING');
    const ids = allowedIds([...answered, after]);
    await eventually(
      async () => f.lines().length,
      () => f.lines().some((l) => l.decisionId === ids.at(-1)),
    );
    const logged = new Set(f.lines().map((l) => l.decisionId));
    // No allow without its line.
    expect(ids.filter((id) => !logged.has(id))).toEqual([]);
    // Calls whose lines were in the stuck write were answered as refused when it stalled (their lines may
    // still land: the log may show an allow not carried out, never the reverse); the stall line counts them.
    const refusedWaiting = answered.filter((a) => !a.allow);
    expect(new Set(refusedWaiting.map((a) => (a.allow ? '' : a.problem.code)))).toEqual(
      new Set(refusedWaiting.length > 0 ? ['ERR_DECISION_LOG_UNAVAILABLE'] : []),
    );
    const stall = f.lines().find((l) => l.msg === 'decision-log-stall');
    // (those in the stuck write as answeredAsRefused, those queued behind it as lost)
    expect(stall?.['level']).toBe('warn');
    expect(Number(stall?.['answeredAsRefused']) + Number(stall?.['lost'])).toBeGreaterThanOrEqual(refusedWaiting.length > 0 ? 1 : 0);
    expect(answered.length).toBe(waiting.length);
  });
});
