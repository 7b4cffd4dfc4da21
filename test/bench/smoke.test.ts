/**
 * Keeps `npm run bench` from rotting without timing anything: the request builder, the no-op baseline, the
 * probe and the report writers run for real; the ghz-driven run only when ghz is installed (always in CI, where `.ci/run` installs it). Assertions are
 * about shape, never about speed.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionPath } from '../../bench/configs.js';
import { envoyMarkdown } from '../../bench/envoy-report.js';
import { createFixtures, type Fixtures } from '../../bench/fixtures.js';
import { findGhz } from '../../bench/ghz.js';
import { grpcOrder } from '../../bench/grpc-order.js';
import { startNoopServer } from '../../bench/noop-server.js';
import { probeCheck } from '../../bench/probe.js';
import { type BenchResults, writeResults } from '../../bench/report.js';
import { buildCheckRequest, encodeCountDelimited } from '../../bench/requests.js';
import { buildMatrix } from '../../bench/scenarios.js';
import { findGoNoop, launchServer } from '../../bench/servers.js';
import { buildCallguard } from '../../src/build-callguard.js';
import { loadConfig } from '../../src/config/load-config.js';
import { CheckRequestSchema, CheckResponseSchema } from '../../src/gen/envoy/service/auth/v3/external_auth_pb.js';
import { createMemoryDestination } from '../helpers/memory-destination.js';

const ROOT = resolve(import.meta.dirname, '../..');
/** Without a tool its test is skipped on a workstation; in CI (`.ci/run` installs them) it runs, and fails. */
const skipWithout = (tool: string | undefined): boolean => tool === undefined && !process.env['CI'];
const run = promisify(execFile);

describe('bench harness', () => {
  let dir: string;
  let fixtures: Fixtures;
  let token: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'callguard-bench-'));
    fixtures = await createFixtures(dir);
    [token = ''] = await fixtures.mintTokens(1);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds an Envoy-shaped CheckRequest that survives the ghz framing', () => {
    const request = buildCheckRequest({
      path: '/api/v1/fn-0000/orders',
      token,
      body: fixtures.validBody,
      peerCertificate: fixtures.peerCertificate,
      sequence: 7,
    });
    const framed = encodeCountDelimited([request]);
    const length = toBinary(CheckRequestSchema, request).length;
    // varint length prefix: 7 bits per byte, high bit = more
    expect((framed[0] ?? 0) & 0x80).toBe(0x80);
    expect(((framed[0] ?? 0) & 0x7f) + ((framed[1] ?? 0) << 7)).toBe(length);
    const decoded = fromBinary(CheckRequestSchema, framed.subarray(2));
    const http = decoded.attributes?.request?.http;
    expect(http?.method).toBe('POST');
    expect(http?.headers.authorization).toBe(`Bearer ${token}`);
    expect(http?.headers['x-envoy-auth-partial-body']).toBe('false');
    expect(decoded.attributes?.destination?.principal).not.toBe('');
    expect(decodeURIComponent(decoded.attributes?.source?.certificate ?? '')).toContain('BEGIN CERTIFICATE');
    expect(http?.rawBody.length).toBeGreaterThan(700);
  });

  it('the no-op baseline answers OK and the probe reads it', async () => {
    const server = await startNoopServer();
    try {
      const request = buildCheckRequest({ path: '/x', token, body: fixtures.validBody, peerCertificate: fixtures.peerCertificate, sequence: 1 });
      await expect(probeCheck(server.address, request)).resolves.toEqual({ rpcCode: 0 });
    } finally {
      await server.stop();
    }
  });

  // Built by bench/install-tools.sh (needs Go and its module proxy), so not on every workstation.
  it.skipIf(skipWithout(findGoNoop(ROOT)))('the grpc-go no-op server (go-floor) answers OK and the probe reads it', async () => {
    const goNoop = findGoNoop(ROOT);
    if (goNoop === undefined) throw new Error('go-noop is not built (sh bench/install-tools.sh go-noop); in CI this test must not be skipped');
    const server = await launchServer({ command: goNoop, args: [], readyMsg: 'go noop listening', cwd: ROOT });
    try {
      const request = buildCheckRequest({ path: '/x', token, body: fixtures.validBody, peerCertificate: fixtures.peerCertificate, sequence: 1 });
      await expect(probeCheck(server.address, request)).resolves.toEqual({ rpcCode: 0 });
    } finally {
      await server.stop();
    }
  });

  it('runs go-floor next to the Node baseline only when go-noop is built, and never in --quick', () => {
    const ids = (quick: boolean, goFloor: boolean) => buildMatrix({ quick, workers: 1, rates: [2000], goFloor }).map((s) => s.id);
    expect(ids(false, true).slice(0, 3)).toEqual(['baseline', 'cached', 'go-floor']);
    expect(ids(false, false)).not.toContain('go-floor');
    expect(ids(true, true)).toEqual(['baseline', 'cached']);
  });

  it('grpc-payload: the prepared config and the gRPC order are allowed by callguard (the scenario measures an allow)', async () => {
    const scenario = buildMatrix({ quick: false, workers: 1, rates: [2000], goFloor: false }).find((s) => s.id === 'grpc-payload');
    const prepared = await scenario?.prepare(fixtures);
    const config = loadConfig(prepared?.config ?? '');
    const callguard = await buildCallguard(config, { decisionLog: createMemoryDestination().stream });
    try {
      const order = grpcOrder(fixtures);
      const request = buildCheckRequest({
        path: functionPath(9),
        token,
        body: order.body,
        contentType: 'application/grpc',
        peerCertificate: fixtures.peerCertificate,
        sequence: 1,
      });
      const response = fromBinary(CheckResponseSchema, await callguard.handleCheck(toBinary(CheckRequestSchema, request)));
      expect(response.httpResponse.case).toBe('okResponse');
    } finally {
      await callguard.close();
    }
  });

  it.each([
    { name: 'every case held the rate', callguard: { achievedRps: 1000, non2xx: 0 }, overloaded: false },
    { name: 'a case had 503s', callguard: { achievedRps: 990, non2xx: 86 }, overloaded: true },
    { name: 'a case fell short of the rate', callguard: { achievedRps: 900, non2xx: 0 }, overloaded: true },
  ])('the Envoy table says when the run was overloaded: $name', ({ callguard, overloaded }) => {
    const latencyMs = { p50: 1, p90: 2, p99: 3, p999: 4, max: 5 };
    const base = { requests: 4000, latencyMs };
    const md = envoyMarkdown({
      rate: 1000,
      seconds: 4,
      path: '/orders',
      bodyBytes: 496,
      envoyVersion: 'test',
      cases: [
        { label: 'App and Envoy', achievedRps: 1000, non2xx: 0, ...base },
        { label: 'App, Envoy and callguard', ...callguard, ...base },
      ],
      addedByCallguardMs: { p50: 0, p90: 0, p99: 0 },
    }).join('\n');
    expect(md.includes('**Overloaded run?** "App, Envoy and callguard"')).toBe(overloaded);
  });

  it('writes JSON, Markdown and SVG from a result set', () => {
    const latencyMs = { p50: 1, p90: 2, p99: 3, p999: 4, max: 5 };
    const point = { targetRate: null, achievedRps: 100, ok: 100, errors: 0, latencyMs, serverCores: 1, serverCpuMicrosPerCall: 10, overloaded: false };
    const results: BenchResults = {
      schemaVersion: 1,
      startedAt: new Date(0).toISOString(),
      durationSeconds: 1,
      machine: { nproc: 2, cpuModel: 'test', memoryGiB: 1, kernel: 'test', node: 'v20', loadGenerator: 'ghz' },
      settings: {},
      scenarios: ['baseline', 'cached', 'go-floor'].map((id) => ({
        id,
        target: id === 'cached' ? 'callguard' : (id as 'baseline' | 'go-floor'),
        description: id,
        functions: 0,
        workers: 1,
        concurrency: 1,
        connections: 1,
        points: [point, { ...point, targetRate: 2000, latencyMs: { ...latencyMs, p99: id === 'go-floor' ? 1.5 : 3 } }],
      })),
      envoy: { skipped: 'test' },
    };
    const [json, md, svg] = writeResults(join(dir, 'report'), results);
    const { targets } = JSON.parse(readFileSync(json ?? '', 'utf8')) as Required<BenchResults>;
    expect(targets.saturationRatio.measured).toBe(1);
    expect(targets.p99At2kMs).toMatchObject({ measured: 3, baseline: 3, goFloor: 1.5, met: false });
    expect(readFileSync(md ?? '', 'utf8')).toContain('| cached | saturation |');
    expect(readFileSync(md ?? '', 'utf8')).toContain('(baseline 3 ms, grpc-go no-op 1.5 ms)');

    // A scenario that failed (e.g. its probe after the load no longer matched) counts for no target.
    const failed = { ...results, scenarios: results.scenarios.map((s) => (s.id === 'cached' ? { ...s, skipped: 'failed: after the load' } : s)) };
    const [json2, md2] = writeResults(join(dir, 'report-failed'), failed);
    expect((JSON.parse(readFileSync(json2 ?? '', 'utf8')) as Required<BenchResults>).targets.saturationRatio).toMatchObject({ measured: null, met: null });
    expect(readFileSync(md2 ?? '', 'utf8')).toContain('| cached | skipped: failed: after the load |');
    expect(readFileSync(svg ?? '', 'utf8')).toMatch(/^<svg[\s\S]*<polyline[\s\S]*<\/svg>\n$/);
  });

  it.skipIf(skipWithout(findGhz(ROOT)))(
    'a --quick baseline-only run writes a result file of the expected shape',
    async () => {
      const out = join(dir, 'run');
      await run(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--only', 'baseline', '--seconds', '1', '--rates', '1000', '--out', out], {
        cwd: ROOT,
      });
      const results = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as BenchResults;
      expect(results.machine.nproc).toBeTypeOf('number');
      const [baseline] = results.scenarios;
      expect(baseline?.id).toBe('baseline');
      expect(baseline?.skipped).toBeUndefined();
      expect(baseline?.points.map((p) => p.targetRate)).toEqual([null, 1000]);
      for (const p of baseline?.points ?? []) {
        expect(Object.keys(p.latencyMs).sort()).toEqual(['max', 'p50', 'p90', 'p99', 'p999']);
        expect(p.ok).toBeGreaterThan(0);
      }
      expect(readFileSync(join(out, 'latency.svg'), 'utf8')).toContain('<svg');
    },
    60_000,
  );
});
