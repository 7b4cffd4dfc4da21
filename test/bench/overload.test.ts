/**
 * Issue 8's burst, bounded: many concurrent calls over many connections (ghz), far past what callguard can
 * decide, against `callguard serve` with a small `server.maxInFlight` so that admission control must shed.
 * Shown: no gRPC error and no restart needed (a call right after is allowed, health SERVING), every answer
 * accounted for in the decision log (decision lines + counted refusals = calls answered), every allow a
 * prober saw during the burst has its line, and resident memory stays bounded.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { toBinary } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionPath, writeBenchConfig } from '../../bench/configs.js';
import { createFixtures, type Fixtures } from '../../bench/fixtures.js';
import { buildProtoset, findGhz } from '../../bench/ghz.js';
import { buildCheckRequest, writeGhzData } from '../../bench/requests.js';
import { callguardCommand, launchServer } from '../../bench/servers.js';
import { CheckRequestSchema } from '../../src/gen/envoy/service/auth/v3/external_auth_pb.js';
import { checkHealth, createCheckClient, decodeCheckResponse, summarize } from '../helpers/envoy-check.js';

const ROOT = resolve(import.meta.dirname, '../..');
const ghz = findGhz(ROOT);
const run = promisify(execFile);

describe.skipIf(ghz === undefined && !process.env['CI'])('overload burst', () => {
  let dir: string;
  let fixtures: Fixtures;
  let token: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'callguard-burst-'));
    fixtures = await createFixtures(dir);
    [token = ''] = await fixtures.mintTokens(1);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('sheds what it cannot take, records every answer, recovers without a restart', async () => {
    expect(ghz, 'ghz is required in CI (bench/install-tools.sh ghz)').toBeDefined();
    const request = (sequence: number) =>
      buildCheckRequest({ path: functionPath(9), token, body: fixtures.validBody, peerCertificate: fixtures.peerCertificate, sequence });
    const dataFile = join(dir, 'requests.bin');
    writeGhzData(
      dataFile,
      Array.from({ length: 64 }, (_, i) => ({
        path: functionPath(9),
        token,
        body: fixtures.validBody,
        peerCertificate: fixtures.peerCertificate,
        sequence: i,
      })),
    );
    const protoset = buildProtoset(ROOT, join(dir, 'auth.binpb'));
    const logFile = join(dir, 'decisions.log');
    const config = writeBenchConfig(fixtures, 'burst', { functions: 10, decisionLog: logFile, durability: 'written', maxInFlight: 16 });
    const command = callguardCommand(ROOT);
    if (command === undefined) throw new TypeError('no callguard to run');
    const server = await launchServer({
      command: process.execPath,
      args: [...command.args, 'serve', '--config', config],
      readyMsg: 'callguard listening',
      cwd: ROOT,
    });
    const out = join(dir, 'ghz.json');
    let burst: { count: number; details: { status: string }[]; statusCodeDistribution: Record<string, number> };
    const allowed: string[] = [];
    let proberCalls = 0;
    try {
      const load = run(
        ghz as string,
        [
          '--insecure',
          '--protoset',
          protoset,
          '--call',
          'envoy.service.auth.v3.Authorization/Check',
          '--binary-file',
          dataFile,
          '--concurrency',
          '400',
          '--connections',
          '40',
          '--duration',
          '6s',
          '--duration-stop',
          'wait',
          '--timeout',
          '20s',
          '--format',
          'json',
          '--output',
          out,
          server.address,
        ],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      // A prober on its own connection, during the burst: each allow it gets must have its line.
      const client = createCheckClient(server.address);
      let loading = true;
      void load.finally(() => {
        loading = false;
      });
      for (let i = 0; loading && i < 2000; i++) {
        const s = summarize(decodeCheckResponse(await client.checkBytes(toBinary(CheckRequestSchema, request(10_000 + i)))));
        proberCalls++;
        if (s.allow) allowed.push(s.headers['x-callguard-decision-id'] ?? '');
      }
      await load;
      burst = JSON.parse(readFileSync(out, 'utf8'));
      const after = summarize(decodeCheckResponse(await client.checkBytes(toBinary(CheckRequestSchema, request(99_999)))));
      proberCalls++;
      client.close();
      expect(after.allow).toBe(true);
      if (after.allow) allowed.push(after.headers['x-callguard-decision-id'] ?? '');
      expect(await checkHealth(server.address)).toBe('SERVING');
      const peakKiB = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pids[0]}/status`, 'utf8'))?.[1]);
      expect(peakKiB / 1024).toBeLessThan(400);
    } finally {
      await server.stop();
    }
    // Every call ghz sent got an answer (no gRPC error, no timeout).
    expect(Object.keys(burst.statusCodeDistribution)).toEqual(['OK']);
    const lines = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const decisions = lines.filter((l) => l.msg === 'decision');
    const refused: Record<string, number> = {};
    for (const l of lines.filter((x) => x.msg === 'refused')) {
      for (const [code, n] of Object.entries(l.counts as Record<string, number>)) refused[code] = (refused[code] ?? 0) + n;
    }
    expect(refused.ERR_OVERLOADED ?? 0).toBeGreaterThan(0); // the load really was past the limit
    const refusedTotal = Object.values(refused).reduce((a, b) => a + b, 0);
    // Nothing unaccounted for: each call ghz or the prober made has a decision line or is counted as refused.
    expect(decisions.length + refusedTotal).toBe(burst.count + proberCalls);
    const logged = new Set(decisions.map((d) => d.decisionId));
    expect(allowed.length).toBeGreaterThan(0);
    expect(allowed.filter((id) => !logged.has(id))).toEqual([]);
  }, 120_000);
});
