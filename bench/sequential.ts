/**
 * Unloaded latency of one allowed Check over gRPC (loopback, plaintext), sequential calls: the
 * number a single caller sees, next to the no-op baseline in the same run. `tsx bench/sequential.ts [N]`.
 * Cached token, bench 1 KB-class JSON body, mTLS peer, decision log to /dev/null. Client and servers share
 * this process (one call in flight at a time), so the numbers include the client side of each call.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { buildCallguard } from '../src/build-callguard.js';
import { loadConfig } from '../src/config/load-config.js';
import { CheckRequestSchema } from '../src/gen/envoy/service/auth/v3/external_auth_pb.js';
import { startGrpcServer } from '../src/server/grpc-server.js';
import { functionPath, writeBenchConfig } from './configs.js';
import { createFixtures } from './fixtures.js';
import { startNoopServer } from './noop-server.js';
import { buildCheckRequest } from './requests.js';

const N = Number(process.argv[2] ?? 5000);
const fixtures = await createFixtures(mkdtempSync(join(tmpdir(), 'callguard-seq-')));
const config = loadConfig(writeBenchConfig(fixtures, 'seq', { functions: 10, decisionLog: '/dev/null' }));
const callguard = await buildCallguard(config);
const server = await startGrpcServer({ listen: '127.0.0.1:0' }, callguard.handleCheck);
const noop = await startNoopServer();
const [token] = await fixtures.mintTokens(1);
const request = Buffer.from(
  toBinary(
    CheckRequestSchema,
    buildCheckRequest({ path: functionPath(9), token: token as string, body: fixtures.validBody, peerCertificate: fixtures.peerCertificate, sequence: 1 }),
  ),
);

async function run(address: string): Promise<number[]> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const call = () =>
    new Promise<void>((resolve, reject) =>
      client.makeUnaryRequest(
        '/envoy.service.auth.v3.Authorization/Check',
        (b: Buffer) => b,
        (b: Buffer) => b,
        request,
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  for (let i = 0; i < 500; i++) await call();
  const samples: number[] = [];
  for (let i = 0; i < N; i++) {
    const start = process.hrtime.bigint();
    await call();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  client.close();
  return samples.sort((a, b) => a - b);
}
const pct = (s: number[], p: number) => (s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number).toFixed(3);
for (const [name, address] of [
  ['baseline', noop.address],
  ['callguard', server.address],
] as const) {
  const s = await run(address);
  console.log(`${name.padEnd(10)} n=${N} p50 ${pct(s, 50)} ms  p90 ${pct(s, 90)} ms  p99 ${pct(s, 99)} ms  p99.9 ${pct(s, 99.9)} ms`);
}
await server.close(500);
await noop.stop();
await callguard.close();
