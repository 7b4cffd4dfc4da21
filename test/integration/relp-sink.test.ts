import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { buildCallguard, type Callguard } from '../../src/build-callguard.js';
import { parseConfig } from '../../src/config/load-config.js';
import { createDecisionLog } from '../../src/decision-log/create-decision-log.js';
import type { DecisionRecord } from '../../src/decision-log/decision-record.js';
import type { LogSink } from '../../src/decision-log/log-sink.js';
import { openRelpSink, type RelpSinkOptions } from '../../src/decision-log/relp-sink.js';
import { ConfigError } from '../../src/errors.js';
import { type RunningServer, startGrpcServer } from '../../src/server/grpc-server.js';
import { CHARGE_SCHEMA, fixtureConfigYaml, ORDERS_SCHEMA } from '../helpers/callguard-fixture.js';
import { checkHealth, createCheckClient, summarize } from '../helpers/envoy-check.js';
import { createTestIssuer, type TestIssuer } from '../helpers/jwt-issuer.js';
import { describeWithRsyslog, type Rsyslog, type RsyslogTls, startRsyslog } from '../helpers/rsyslog.js';
import { createTestCerts } from '../helpers/test-certs.js';

/**
 * The RELP sink against a real rsyslog (imrelp over TLS): what it acknowledges arrives, byte for byte
 * and in order; an untrusted receiver is refused; a killed receiver fails writes (the decision log
 * fails closed) until it is back; a stopped one holds the write (the log stalls) until it resumes.
 */
type Certs = ReturnType<typeof createTestCerts>;
let certs: Certs;
let otherCa: Certs;
let server: { certFile: string; keyFile: string };
let client: { certFile: string; keyFile: string };
const receivers: Rsyslog[] = [];
const sinks: LogSink[] = [];
const callguards: { callguard: Callguard; server: RunningServer; client: ReturnType<typeof createCheckClient> }[] = [];

beforeAll(() => {
  certs = createTestCerts();
  otherCa = createTestCerts();
  server = certs.leaf('rsyslog-server', 'DNS:localhost,IP:127.0.0.1');
  client = certs.leaf('callguard-client', 'DNS:callguard.test');
});
afterEach(async () => {
  for (const sink of sinks.splice(0)) sink.close();
  for (const cg of callguards.splice(0)) {
    cg.client.close();
    await cg.server.close(500);
    await cg.callguard.close();
  }
  for (const r of receivers.splice(0)) await r.stop();
});
afterAll(() => {
  certs.cleanup();
  otherCa.cleanup();
});

async function receiver(mtls = true): Promise<Rsyslog> {
  const tls: RsyslogTls = {
    caFile: join(certs.dir, 'ca.pem'),
    certFile: server.certFile,
    keyFile: server.keyFile,
    ...(mtls ? { permittedPeer: 'callguard.test' } : {}),
  };
  const r = await startRsyslog(tls);
  receivers.push(r);
  return r;
}

function sinkOptions(r: Rsyslog, overrides: Partial<RelpSinkOptions> = {}, clientCert = true): RelpSinkOptions {
  return {
    name: `relp+tls://127.0.0.1:${r.port}`,
    host: '127.0.0.1',
    port: r.port,
    ca: Buffer.from(certs.caPem),
    ...(clientCert ? { cert: readFileSync(client.certFile), key: readFileSync(client.keyFile) } : {}),
    serverName: 'localhost',
    connectTimeoutMs: 3000,
    ...overrides,
  };
}

async function openSink(r: Rsyslog, clientCert = true): Promise<LogSink> {
  const sink = await openRelpSink(sinkOptions(r, {}, clientCert));
  sinks.push(sink);
  return sink;
}

/** One write; resolves with what `done` reported. */
function write(sink: LogSink, lines: readonly string[]): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => sink.write(Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8'), (err) => resolve(err)));
}

/** Polls `probe` until `accept` (the receiver writes its file after acknowledging). */
async function eventually<T>(probe: () => T | Promise<T>, accept: (value: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Whether `promise` is still pending after `ms` (a write held by a stopped receiver). */
async function pendingAfter(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timeout = Symbol('pending');
  return (await Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve(timeout), ms))])) === timeout;
}

const jsonLine = (i: number) => JSON.stringify({ level: 'info', seq: i, note: `quote " backslash \\ tab \t é ✓ 𝄞 ${'x'.repeat(i % 300)}` });

describeWithRsyslog('RELP sink against rsyslog (imrelp, TLS)', () => {
  it.each([
    { name: 'mutual TLS', mtls: true },
    { name: 'server-only TLS', mtls: false },
  ])('$name: every acknowledged line arrives in order, byte for byte', async ({ mtls }) => {
    const r = await receiver(mtls);
    const sink = await openSink(r, mtls);
    const lines = Array.from({ length: 700 }, (_, i) => jsonLine(i));
    // One write of 400 lines (beyond the 128-command window), then single-line and small writes.
    const results = [await write(sink, lines.slice(0, 400)), await write(sink, lines.slice(400, 401))];
    for (let i = 401; i < 700; i += 37) results.push(await write(sink, lines.slice(i, Math.min(i + 37, 700))));
    expect(results.filter((e) => e !== undefined)).toEqual([]);
    expect(
      await eventually(
        () => r.lines(),
        (got) => got.length >= lines.length,
      ),
    ).toEqual(lines);
  });

  it.each([
    { name: 'a certificate from another CA', overrides: () => ({ ca: Buffer.from(otherCa.caPem) }), code: 'SELF_SIGNED_CERT_IN_CHAIN' },
    { name: 'a certificate for another name', overrides: () => ({ serverName: 'collector.example' }), code: 'ERR_TLS_CERT_ALTNAME_INVALID' },
  ])('refuses $name before sending anything ($code), even with NODE_TLS_REJECT_UNAUTHORIZED=0', async ({ overrides, code }) => {
    const r = await receiver(false);
    await expect(openRelpSink(sinkOptions(r, overrides()))).rejects.toMatchObject({ code });
    const saved = process.env['NODE_TLS_REJECT_UNAUTHORIZED'];
    process.env['NODE_TLS_REJECT_UNAUTHORIZED'] = '0';
    try {
      await expect(openRelpSink(sinkOptions(r, overrides()))).rejects.toMatchObject({ code });
    } finally {
      if (saved === undefined) delete process.env['NODE_TLS_REJECT_UNAUTHORIZED'];
      else process.env['NODE_TLS_REJECT_UNAUTHORIZED'] = saved;
    }
  });

  it('is refused by a receiver that requires a client certificate when it has none', async () => {
    const r = await receiver(true);
    await expect(openRelpSink(sinkOptions(r, {}, false))).rejects.toBeInstanceOf(Error);
  });

  it("a line above the receiver's maxMessageSize (64k) fails its write instead of arriving cut; the next write succeeds", async () => {
    const r = await receiver();
    const sink = await openSink(r);
    const huge = JSON.stringify({ note: 'x'.repeat(70_000) });
    expect(await write(sink, [jsonLine(1), huge])).toBeInstanceOf(Error);
    expect(await write(sink, [jsonLine(2)])).toBeUndefined();
    const received = await eventually(
      () => r.lines(),
      (got) => got.includes(jsonLine(2)),
    );
    expect(received.filter((line) => line.startsWith('{"note"'))).toEqual([]);
  });

  it('receiver killed: the write in flight and the next fail; restarted on the same port: a later write succeeds', async () => {
    const r = await receiver();
    const sink = await openSink(r);
    expect(await write(sink, [jsonLine(1)])).toBeUndefined();
    // Acknowledged means queued in rsyslog; wait until it is in the file too, before killing the process.
    await eventually(
      () => r.lines(),
      (got) => got.includes(jsonLine(1)),
    );
    await r.pause();
    const inFlight = write(sink, [jsonLine(2)]);
    expect(await pendingAfter(inFlight, 200)).toBe(true);
    await r.kill();
    expect(await inFlight).toBeInstanceOf(Error);
    expect(await write(sink, [jsonLine(3)])).toMatchObject({ code: 'ECONNREFUSED' });
    await r.restart();
    expect(await write(sink, [jsonLine(4)])).toBeUndefined();
    const received = await eventually(
      () => r.lines(),
      (got) => got.includes(jsonLine(4)),
    );
    expect(received).toContain(jsonLine(1));
    expect(received).not.toContain(jsonLine(3));
  });

  it('receiver stopped (SIGSTOP): the write stays pending, and completes once it continues', async () => {
    const r = await receiver();
    const sink = await openSink(r);
    await r.pause();
    const held = write(
      sink,
      Array.from({ length: 50 }, (_, i) => jsonLine(i)),
    );
    expect(await pendingAfter(held, 500)).toBe(true);
    r.resume();
    expect(await held).toBeUndefined();
    expect(
      (
        await eventually(
          () => r.lines(),
          (got) => got.length >= 50,
        )
      ).length,
    ).toBe(50);
  });

  it('receiver stopped past relp.ackTimeoutMs: the write fails (the log reconnects), and the next works once it continues', async () => {
    const r = await receiver();
    const sink = await openRelpSink(sinkOptions(r, { ackTimeoutMs: 300 }));
    sinks.push(sink);
    await r.pause();
    const err = await write(sink, [jsonLine(1)]);
    expect(err?.code, String(err)).toBe('ETIMEDOUT');
    r.resume();
    // As the decision log does after a failed write: try again until the receiver, back from SIGSTOP, acknowledges.
    const retried = await eventually(
      () => write(sink, [jsonLine(2)]),
      (e) => e === undefined,
    );
    expect(retried, String(retried)).toBeUndefined();
    expect(
      await eventually(
        () => r.lines(),
        (got) => got.includes(jsonLine(2)),
      ),
    ).toContain(jsonLine(2));
  });

  it('a graceful close delivers what is still queued (RELP cannot write synchronously)', async () => {
    const r = await receiver();
    const log = createDecisionLog(await openRelpSink(sinkOptions(r)), { durability: 'buffered', maxPendingBytes: 1 << 20, maxWriteMs: 5000 });
    for (let i = 0; i < 3; i++) log.append({ decisionId: `close-${i}`, outcome: 'allow' } as unknown as DecisionRecord);
    await log.close(); // nothing has been written yet: the lines are all queued
    const got = await eventually(
      () => r.lines(),
      (lines) => lines.some((l) => l.includes('close-2')),
    );
    expect(got.filter((l) => l.includes('"msg":"decision"')).map((l) => JSON.parse(l).decisionId)).toEqual(['close-0', 'close-1', 'close-2']);
  });

  describeEndToEnd();
});

function describeEndToEnd(): void {
  let issuer: TestIssuer;
  let token: string;
  beforeAll(async () => {
    issuer = await createTestIssuer();
    token = await issuer.mint({ claims: { sub: 'alice', groups: ['orders-readers'] } });
  });
  afterAll(async () => {
    await issuer.close();
  });

  const configFor = (destination: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'callguard-relp-'));
    writeFileSync(join(dir, 'orders.json'), JSON.stringify(ORDERS_SCHEMA));
    writeFileSync(join(dir, 'charge.json'), JSON.stringify(CHARGE_SCHEMA));
    const relp = `{ ca: ${join(certs.dir, 'ca.pem')}, cert: ${client.certFile}, key: ${client.keyFile}, serverName: localhost, connectTimeoutMs: 2000 }`;
    return parseConfig(
      `${fixtureConfigYaml(issuer.jwksUrl, issuer.url)}\ndecisionLog: { destination: "${destination}", maxWriteMs: 200, relp: ${relp} }\n`,
      join(dir, 'callguard.yaml'),
    );
  };

  it('start-up with an unreachable receiver is a config error naming the destination', async () => {
    const r = await receiver();
    await r.kill();
    const destination = `relp+tls://127.0.0.1:${r.port}`;
    const failure = await buildCallguard(configFor(destination)).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as ConfigError).problems).toEqual([
      expect.objectContaining({
        path: '/decisionLog/destination',
        message: `cannot open a RELP session with ${destination}: connect ECONNREFUSED 127.0.0.1:${r.port}`,
      }),
    ]);
  });

  it('through the gRPC server: allowed calls are in rsyslog; receiver killed → 503 ERR_DECISION_LOG_UNAVAILABLE; restarted → allowed, gap recorded', async () => {
    const r = await receiver();
    const config = configFor(`relp+tls://127.0.0.1:${r.port}`);
    const callguard = await buildCallguard(config, { decisionLogRetryMs: 20 });
    const grpcServer = await startGrpcServer(config.server, callguard.handleCheck, () => callguard.log.healthy());
    const checkClient = createCheckClient(grpcServer.address);
    callguards.push({ callguard, server: grpcServer, client: checkClient });
    const call = async (i: number) =>
      summarize(await checkClient.check({ method: 'GET', path: `/orders/${i}`, headers: { authorization: `Bearer ${token}`, 'x-request-id': `r-${i}` } }));
    const received = () => r.lines().map((line) => JSON.parse(line) as Record<string, unknown>);
    const idOf = (a: Awaited<ReturnType<typeof call>>) => (a.allow ? a.headers['x-callguard-decision-id'] : undefined);

    const before = await Promise.all(Array.from({ length: 20 }, (_, i) => call(i)));
    expect(before.map((a) => a.allow)).toEqual(Array(20).fill(true));
    const ids = before.map(idOf);
    await eventually(received, (lines) => ids.every((id) => lines.some((l) => l['decisionId'] === id)));
    expect(ids.filter((id) => !received().some((l) => l['decisionId'] === id))).toEqual([]);

    await r.kill();
    const during = await eventually(
      () => call(100),
      (a) => !a.allow,
    );
    expect(during.allow ? 'allow' : [during.status, during.problem.code]).toEqual([503, 'ERR_DECISION_LOG_UNAVAILABLE']);
    expect(await checkHealth(grpcServer.address)).toBe('NOT_SERVING');

    await r.restart();
    const after = await eventually(
      () => call(200),
      (a) => a.allow,
    );
    expect(after.allow).toBe(true);
    expect(await checkHealth(grpcServer.address)).toBe('SERVING');
    const lines = await eventually(received, (got) => got.some((l) => l['decisionId'] === idOf(after)));
    expect(lines.some((l) => l['decisionId'] === idOf(after))).toBe(true);
    expect(lines.find((l) => l['msg'] === 'decision-log-gap')).toMatchObject({ level: 'error' });
  });
}
