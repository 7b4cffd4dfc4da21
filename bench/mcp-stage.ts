/**
 * Issue 12: in-process CPU cost of an MCP tools/call against the same call as plain JSON (the bench's
 * cached-token request, 10 functions; the MCP body is the JSON body as `arguments` in a JSON-RPC envelope).
 * Whole `handleCheck` and the payload stage alone, rounds alternated between the two, best round kept
 * (the machine is shared and noisy): `npx tsx bench/mcp-stage.ts [N]`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { toBinary } from '@bufbuild/protobuf';
import type { DestinationStream } from 'pino';
import { buildCallguard } from '../src/build-callguard.js';
import { loadConfig } from '../src/config/load-config.js';
import { CheckRequestSchema } from '../src/gen/envoy/service/auth/v3/external_auth_pb.js';
import { inspectPayload } from '../src/payload/inspect-payload.js';
import { createFunctionPayloadCompiler } from '../src/payload/payload-kinds.js';
import { functionPath, MCP_TOOL, writeBenchConfig } from './configs.js';
import { createFixtures, GROUP } from './fixtures.js';
import { buildCheckRequest } from './requests.js';

const N = Number(process.argv[2] ?? 20000);
const ROUNDS = 7;
const dir = mkdtempSync(join(tmpdir(), 'callguard-mcp-stage-'));
const fixtures = await createFixtures(dir);
const [token] = await fixtures.mintTokens(1);
const sink = new Writable({ write: (_c, _e, done) => done() }) as unknown as DestinationStream;
const mcpBody = new TextEncoder().encode(
  `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"${MCP_TOOL}","arguments":${new TextDecoder().decode(fixtures.validBody)}}}`,
);

async function variant(name: string, mcp: boolean, body: Uint8Array) {
  const config = loadConfig(writeBenchConfig(fixtures, name, { functions: 10, decisionLog: '/dev/null', mcp }));
  const callguard = await buildCallguard(config, { decisionLog: sink });
  const requests = Array.from({ length: 64 }, (_, sequence) =>
    Buffer.from(
      toBinary(
        CheckRequestSchema,
        buildCheckRequest({ path: functionPath(9), token: token as string, body, peerCertificate: fixtures.peerCertificate, sequence }),
      ),
    ),
  );
  return { config, callguard, requests };
}

const json = await variant('mcp-stage-json', false, fixtures.validBody);
const mcp = await variant('mcp-stage-mcp', true, mcpBody);
for (const v of [json, mcp]) {
  const verdict = await v.callguard.handleCheck(v.requests[0] as Buffer);
  if (verdict === undefined) throw new Error('no verdict');
}

/** Best CPU µs per call of each, rounds alternated so both see the same machine. */
async function compare(label: string, a: (i: number) => unknown, b: (i: number) => unknown): Promise<void> {
  const best = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
  for (let round = 0; round < ROUNDS; round++) {
    for (const [k, once] of [a, b].entries()) {
      for (let i = 0; i < 1000; i++) await once(i);
      const cpu0 = process.cpuUsage();
      for (let i = 0; i < N; i++) await once(i);
      const cpu = process.cpuUsage(cpu0);
      best[k] = Math.min(best[k] as number, (cpu.user + cpu.system) / N);
    }
  }
  const [x, y] = best as [number, number];
  console.log(`${label.padEnd(32)} JSON ${x.toFixed(2)} µs  MCP ${y.toFixed(2)} µs  ratio ${(y / x).toFixed(2)}`);
}

await compare(
  'handleCheck (whole)',
  (i) => json.callguard.handleCheck(json.requests[i % 64] as Buffer),
  (i) => mcp.callguard.handleCheck(mcp.requests[i % 64] as Buffer),
);

const fnJson = json.config.functions[9];
const fnMcp = mcp.config.functions[9];
const compile = createFunctionPayloadCompiler('bench', new Map([['bench', 'jwt']]));
const input = fnJson === undefined ? undefined : compile(fnJson, '/functions/9');
const endpoint = fnMcp?.mcp === undefined ? undefined : compile(fnMcp, '/functions/9');
if (input === undefined || endpoint === undefined) throw new Error('bench function 9 is not as expected');
const caller = { credential: { kind: 'jwt', source: 'bench', subject: 's', groups: [GROUP], attributes: {}, expiresAt: 0 } } as never;
const limits = { maxDepth: 32 };
const jsonBody = { bytes: fixtures.validBody, partial: false };
const rpcBody = { bytes: mcpBody, partial: false };
await compare(
  'payload stage only',
  () => inspectPayload(input, jsonBody, 'application/json', limits, undefined, { method: 'POST', caller }),
  () => inspectPayload(endpoint, rpcBody, 'application/json', limits, undefined, { method: 'POST', caller }),
);
console.log(`bodies: JSON ${fixtures.validBody.length} B, MCP ${mcpBody.length} B`);
await json.callguard.close();
await mcp.callguard.close();
