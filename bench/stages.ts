/**
 * In-process CPU cost of each stage of one Check on the bench's cached-token request (no gRPC, no load
 * generator): where the ~28 µs of `handleCheck` go. Each stage runs N times, best of 5 rounds (the
 * machine is shared and noisy). Use it with `bench/micro.ts` when working on the hot path:
 * `npx tsx bench/stages.ts [N]`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DestinationStream } from 'pino';
import { buildCallguard } from '../src/build-callguard.js';
import { loadConfig } from '../src/config/load-config.js';
import { toDecisionRecord } from '../src/decision-log/decision-record.js';
import { createRequestFacts } from '../src/decision-log/request-facts.js';
import { encodeAllow } from '../src/envoy/encode-allow.js';
import { readCheckRequest } from '../src/envoy/read-check-request.js';
import { toCallAttempt } from '../src/envoy/to-call-attempt.js';
import { CheckRequestSchema } from '../src/gen/envoy/service/auth/v3/external_auth_pb.js';
import { inspectPayload } from '../src/payload/inspect-payload.js';
import { maskFields } from '../src/payload/mask-fields.js';
import { createPayloadCompiler } from '../src/payload/payload-kinds.js';
import { parseStrictJson } from '../src/payload/strict-json.js';
import { functionPath, writeBenchConfig } from './configs.js';
import { createFixtures } from './fixtures.js';
import { grpcOrder } from './grpc-order.js';
import { buildCheckRequest } from './requests.js';

const N = Number(process.argv[2] ?? 20000);
const dir = mkdtempSync(join(tmpdir(), 'callguard-stages-'));
const fixtures = await createFixtures(dir);
const configFile = writeBenchConfig(fixtures, 'stages', { functions: 10, decisionLog: '/dev/null' });
const config = loadConfig(configFile);
const sink = new Writable({ write: (_c, _e, done) => done() }) as unknown as DestinationStream;
const callguard = await buildCallguard(config, { decisionLog: sink });
const [token] = await fixtures.mintTokens(1);
const requests = Array.from({ length: 64 }, (_, sequence) =>
  Buffer.from(
    toBinary(
      CheckRequestSchema,
      buildCheckRequest({ path: functionPath(9), token: token as string, body: fixtures.validBody, peerCertificate: fixtures.peerCertificate, sequence }),
    ),
  ),
);
const fn = config.functions[9];
if (fn?.input === undefined) throw new Error('bench function 9 has no input');
const input = createPayloadCompiler(configFile)(fn.input, '/functions/9/input');
// The same order as a gRPC message, for a gRPC function (issue 12).
const order = grpcOrder(fixtures);
const grpcConfigFile = writeBenchConfig(fixtures, 'stages-grpc', { functions: 10, decisionLog: '/dev/null', grpc: order });
const grpcFn = loadConfig(grpcConfigFile).functions[9];
if (grpcFn?.input === undefined) throw new Error('bench gRPC function 9 has no input');
const grpcInput = createPayloadCompiler(grpcConfigFile)(grpcFn.input, '/functions/9/input');
const attempts = requests.map((bytes) => {
  const converted = toCallAttempt(readCheckRequest(bytes));
  if (!converted.ok) throw new Error(converted.internal);
  return converted.attempt;
});
const parsed = parseStrictJson(fixtures.validBody, { maxDepth: 32 });
if (!parsed.ok) throw new Error(parsed.reason);
const decision = await callguard.decide(attempts[0] as (typeof attempts)[number]);
if (!decision.allow) throw new Error(`expected allow, got ${decision.code}`);

async function stage(name: string, once: (i: number) => unknown): Promise<void> {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 1000; i++) await once(i);
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < N; i++) await once(i);
    const cpu = process.cpuUsage(cpu0);
    best = Math.min(best, (cpu.user + cpu.system) / N);
  }
  console.log(`${name.padEnd(38)} ${best.toFixed(2)} µs`);
}

const at = (i: number) => attempts[i % 64] as (typeof attempts)[number];
await stage('fromBinary (baseline decode)', (i) => fromBinary(CheckRequestSchema, requests[i % 64] as Buffer));
await stage('readCheckRequest', (i) => readCheckRequest(requests[i % 64] as Buffer));
await stage('toCallAttempt', (i) => toCallAttempt(readCheckRequest(requests[i % 64] as Buffer)));
await stage('decide (all steps)', (i) => callguard.decide(at(i)));
await stage('  inspectPayload', (i) => inspectPayload(input, at(i).body, 'application/json', { maxDepth: 32 }));
await stage('  inspectPayload (gRPC)', () => inspectPayload(grpcInput, { bytes: order.body, partial: false }, 'application/grpc', { maxDepth: 32 }));
await stage('    parseStrictJson', () => parseStrictJson(fixtures.validBody, { maxDepth: 32 }));
await stage('    schema validate', () => input.validate(parsed.value));
await stage('    maskFields', () => maskFields(parsed.value, input));
await stage('encodeAllow', () => encodeAllow(decision));
const describeRequest = createRequestFacts(config.functions);
await stage('toDecisionRecord', () => toDecisionRecord(at(0), decision, 50, describeRequest));
await stage('handleCheck (whole, log to a stream)', (i) => callguard.handleCheck(requests[i % 64] as Buffer));
await callguard.close();
