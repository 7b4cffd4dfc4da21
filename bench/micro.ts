/**
 * In-process CPU cost of one Check (no gRPC, no load generator): the handler callguard runs per
 * call, on the bench's cached-token request, against decode + OK (the baseline's work). Quieter than
 * the load test on a noisy machine; use it to compare hot-path changes. `tsx bench/micro.ts [N] [--metrics]`.
 * `--metrics`: the handler counts into the admin listener's metrics, and the listener runs, as `serve` does by
 * default; without it, as with `admin.enabled: false`. Compare the two in separate processes (one process
 * holding both would share their JIT feedback).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DestinationStream } from 'pino';
import { createAdmin } from '../src/admin/create-admin.js';
import { buildCallguard } from '../src/build-callguard.js';
import { loadConfig } from '../src/config/load-config.js';
import { CheckRequestSchema, CheckResponseSchema } from '../src/gen/envoy/service/auth/v3/external_auth_pb.js';
import { functionPath, writeBenchConfig } from './configs.js';
import { createFixtures } from './fixtures.js';
import { buildCheckRequest } from './requests.js';

const N = Number(process.argv.slice(2).find((arg) => /^\d+$/.test(arg)) ?? 10000);
const metrics = process.argv.includes('--metrics');
const dir = mkdtempSync(join(tmpdir(), 'callguard-micro-'));
const fixtures = await createFixtures(dir);
const configFile = writeBenchConfig(fixtures, 'micro', { functions: 10, decisionLog: '/dev/null' });
const sink = process.argv.includes('--log-file') ? undefined : (new Writable({ write: (_c, _e, done) => done() }) as unknown as DestinationStream);
const config = loadConfig(configFile);
const admin = metrics ? createAdmin(config) : undefined;
const callguard = await buildCallguard(config, { ...(sink ? { decisionLog: sink } : {}), ...(admin ? { meter: admin.meter } : {}) });
const adminServer = await admin?.start(callguard, { stopping: () => false });
const [token] = await fixtures.mintTokens(1);
const bytes = (i: number) =>
  toBinary(
    CheckRequestSchema,
    buildCheckRequest({ path: functionPath(9), token: token as string, body: fixtures.validBody, peerCertificate: fixtures.peerCertificate, sequence: i }),
  );
const requests = Array.from({ length: 256 }, (_, i) => bytes(i));
const first = fromBinary(CheckResponseSchema, await callguard.handleCheck(requests[0] as Uint8Array));
if (first.status?.code !== 0) throw new Error(`expected allow, got ${JSON.stringify(first.httpResponse.value)}`);

async function measure(name: string, once: (req: Uint8Array) => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < 2000; i++) await once(requests[i % 256] as Uint8Array);
  const heap0 = process.memoryUsage().heapUsed;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < N; i++) await once(requests[i % 256] as Uint8Array);
  const cpu = process.cpuUsage(cpu0);
  const us = (cpu.user + cpu.system) / N;
  console.log(`${name.padEnd(17)} ${us.toFixed(1)} µs/call CPU  (heap delta ${((process.memoryUsage().heapUsed - heap0) / 1024 / 1024).toFixed(1)} MiB)`);
  return us;
}
const ok = toBinary(CheckResponseSchema, create(CheckResponseSchema, { status: { code: 0 } }));
// Alternate rounds and keep each side's best: the machine is shared and noisy; the minimum is the
// least-disturbed estimate of the work itself.
let base = Number.POSITIVE_INFINITY;
let cg = Number.POSITIVE_INFINITY;
for (let round = 0; round < 5; round++) {
  base = Math.min(
    base,
    await measure('baseline', (req) => {
      fromBinary(CheckRequestSchema, req);
      return ok;
    }),
  );
  cg = Math.min(cg, await measure(metrics ? 'callguard+metrics' : 'callguard', (req) => callguard.handleCheck(req)));
}
console.log(
  `best of 5: baseline ${base.toFixed(1)} µs, callguard${metrics ? '+metrics' : ''} ${cg.toFixed(1)} µs; callguard adds ${(cg - base).toFixed(1)} µs/call over decode + OK`,
);
await adminServer?.close();
await callguard.close();
