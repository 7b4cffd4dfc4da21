import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type InventoryServer, startInventoryServer } from '../../examples/grpc/server.js';
import { addInventoryRoute, buildInventoryDescriptorSet, INVENTORY_SERVICE, inventoryReserveFunction } from '../../scripts/lib/grpc-example-stack.js';
import { concat, inventoryMessages } from '../helpers/grpc-example.js';
import { describeWithEnvoy } from '../helpers/stack-envoy.js';
import { startTestStack, type TestStack } from '../helpers/stack-harness.js';
import { readDecisionLog } from '../helpers/stack-http.js';

const CARD = { number: '4111111111111111', expiry: '12/29' };
const VALID = { sku: 'AB-1', quantity: 2, card: CARD, tags: ['rush'] };
type Json = Record<string, unknown>;

interface CallResult {
  readonly code: grpc.status;
  readonly details: string;
  readonly metadata: grpc.Metadata | undefined;
  readonly reply: Buffer | undefined;
}

/**
 * Issue 12, item 3, through real Envoy: a grpc-js client calls the example Inventory function (grpc-js,
 * behind Envoy on a unix socket); callguard decodes each request message with the descriptor set, and a
 * denial reaches the client as a gRPC status it can read, with the reason in grpc-message.
 */
describeWithEnvoy('e2e: gRPC function behind Envoy (input.contentType application/grpc)', () => {
  let dir: string;
  let stack: TestStack;
  let fn: InventoryServer;
  let client: grpc.Client;
  let gzipClient: grpc.Client;
  let messages: ReturnType<typeof inventoryMessages>;
  let token: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'callguard-grpc-e2e-'));
    const descriptorSet = buildInventoryDescriptorSet(dir);
    const socket = join(dir, 'inventory.sock');
    messages = inventoryMessages(descriptorSet);
    fn = await startInventoryServer(`unix:${socket}`, descriptorSet);
    stack = await startTestStack({
      customizeEnvoy: (config) => addInventoryRoute(config, socket),
      customizeCallguard: (config) => void (config['functions'] as Json[]).push(inventoryReserveFunction(descriptorSet)),
    });
    const credentials = grpc.credentials.createSsl(readFileSync(join(stack.pkiDir, 'ca.crt')));
    const target = `127.0.0.1:${stack.envoyPort}`;
    client = new grpc.Client(target, credentials, { 'grpc.ssl_target_name_override': 'envoy' });
    // grpc-js compresses each message (compressed-flag 1) when a default algorithm is set: 2 = gzip.
    gzipClient = new grpc.Client(target, credentials, { 'grpc.ssl_target_name_override': 'envoy', 'grpc.default_compression_algorithm': 2 });
    token = await stack.issuer.mint({ subject: 'alice', groups: ['orders-writers'], ttlSeconds: 300 });
  });
  afterAll(async () => {
    client?.close();
    gzipClient?.close();
    await stack?.stop();
    await fn?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const metadataWith = (bearer: string | undefined): grpc.Metadata => {
    const metadata = new grpc.Metadata();
    if (bearer !== undefined) metadata.set('authorization', `Bearer ${bearer}`);
    return metadata;
  };
  /** A unary Reserve call with `message` as the request bytes, exactly as given. */
  const reserve = (message: Uint8Array, options: { bearer?: string | undefined; via?: grpc.Client } = { bearer: token }): Promise<CallResult> =>
    new Promise((resolve) => {
      let metadata: grpc.Metadata | undefined;
      const call = (options.via ?? client).makeUnaryRequest(
        `/${INVENTORY_SERVICE}/Reserve`,
        (bytes: Uint8Array) => Buffer.from(bytes),
        (bytes: Buffer) => bytes,
        message,
        metadataWith('bearer' in options ? options.bearer : token),
        (err, reply) => resolve({ code: err?.code ?? grpc.status.OK, details: err?.details ?? '', metadata: err?.metadata ?? metadata, reply }),
      );
      call.on('metadata', (m) => {
        metadata = m;
      });
    });
  const lineFor = async (result: CallResult) => {
    const decisionId = result.metadata?.get('x-callguard-decision-id')[0]?.toString();
    expect(decisionId).toBeDefined();
    const lines = await readDecisionLog(stack.decisionLog);
    return lines.find((l) => l.decisionId === decisionId) as unknown as Json;
  };

  it('a valid message reaches the function with the caller identity; the decision line logs masked fields', async () => {
    const before = fn.received.length;
    const result = await reserve(messages.reserve(VALID));
    expect(result.code).toBe(grpc.status.OK);
    expect(fn.received.slice(before)).toEqual([{ method: 'Reserve', message: expect.objectContaining({ sku: 'AB-1', quantity: 2 }), subject: 'alice' }]);
    const lines = await readDecisionLog(stack.decisionLog);
    const line = lines.findLast((l) => l.function === 'inventory.reserve') as unknown as Json;
    expect(line).toMatchObject({
      outcome: 'allow',
      status: 200,
      payload: { contentType: 'application/grpc', fields: { '/sku': 'AB-1', '/quantity': 2, '/card/number': '[masked]' } },
    });
    expect(JSON.stringify(line)).not.toContain('4111');
  });

  it.each([
    {
      name: 'schema violation (quantity 0)',
      message: () => messages.reserve({ ...VALID, quantity: 0 }),
      grpcCode: grpc.status.INVALID_ARGUMENT,
      code: 'ERR_BODY_SCHEMA',
      details: /^ERR_BODY_SCHEMA: the request body does not match the schema \(1 violation\): \/quantity minimum: must be >= 1 \(decision [0-9a-f-]{36}\)$/,
    },
    {
      name: 'unknown field',
      message: () => concat(messages.reserve(VALID), Uint8Array.of(0xf8, 0x06, 0x01)),
      grpcCode: grpc.status.INVALID_ARGUMENT,
      code: 'ERR_BODY_GRPC_MESSAGE',
      details: /^ERR_BODY_GRPC_MESSAGE: the message: unknown field 111 in example\.inventory\.v1\.ReserveRequest/,
    },
    {
      name: 'not a ReserveRequest (string field not UTF-8)',
      message: () => Uint8Array.of(0x0a, 0x02, 0xff, 0xfe),
      grpcCode: grpc.status.INVALID_ARGUMENT,
      code: 'ERR_BODY_GRPC_MESSAGE',
      details: /not a valid example\.inventory\.v1\.ReserveRequest/,
    },
  ])('$name: the client gets $code as gRPC status $grpcCode, the function nothing', async ({ message, grpcCode, code, details }) => {
    const before = fn.received.length;
    const result = await reserve(message());
    expect({ code: result.code, details: result.details }).toEqual({ code: grpcCode, details: expect.stringMatching(details) });
    expect(fn.received.length).toBe(before);
    expect(await lineFor(result)).toMatchObject({ function: 'inventory.reserve', outcome: 'deny', status: 400, code });
  });

  it('no credential: UNAUTHENTICATED', async () => {
    const result = await reserve(messages.reserve(VALID), { bearer: undefined });
    expect({ code: result.code, details: result.details }).toEqual({
      code: grpc.status.UNAUTHENTICATED,
      details: expect.stringMatching(/^ERR_CREDENTIAL_MISSING: /),
    });
    expect(await lineFor(result)).toMatchObject({ function: 'inventory.reserve', code: 'ERR_CREDENTIAL_MISSING' });
  });

  it('a wrong group: PERMISSION_DENIED', async () => {
    const reader = await stack.issuer.mint({ subject: 'bob', groups: ['orders-readers'], ttlSeconds: 300 });
    const result = await reserve(messages.reserve(VALID), { bearer: reader });
    expect({ code: result.code, details: result.details }).toEqual({
      code: grpc.status.PERMISSION_DENIED,
      details: expect.stringMatching(/^ERR_NOT_PERMITTED: /),
    });
  });

  it('a compressed message (grpc-js with gzip): refused, the function gets nothing', async () => {
    const before = fn.received.length;
    const result = await reserve(messages.reserve(VALID), { bearer: token, via: gzipClient });
    expect({ code: result.code, details: result.details }).toEqual({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringMatching(/^ERR_BODY_GRPC_FRAME: the message at offset 0 is compressed/),
    });
    expect(fn.received.length).toBe(before);
    expect(await lineFor(result)).toMatchObject({ code: 'ERR_BODY_GRPC_FRAME' });
  });

  it('two messages on the unary method (sent as a client stream): refused', async () => {
    const before = fn.received.length;
    const result = await new Promise<CallResult>((resolve) => {
      const call = client.makeClientStreamRequest(
        `/${INVENTORY_SERVICE}/Reserve`,
        (bytes: Uint8Array) => Buffer.from(bytes),
        (bytes: Buffer) => bytes,
        metadataWith(token),
        (err, reply) => resolve({ code: err?.code ?? grpc.status.OK, details: err?.details ?? '', metadata: err?.metadata, reply }),
      );
      call.write(messages.reserve(VALID));
      call.write(messages.reserve(VALID));
      call.end();
    });
    expect({ code: result.code, details: result.details }).toEqual({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringMatching(/^ERR_BODY_GRPC_FRAME: more than one message/),
    });
    expect(fn.received.length).toBe(before);
  });
});
