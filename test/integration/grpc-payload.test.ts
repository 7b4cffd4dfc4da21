import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryReserveFunction } from '../../scripts/lib/grpc-example-stack.js';
import { type Fixture, startFixture } from '../helpers/callguard-fixture.js';
import { buildDescriptorSet, concat, grpcFrame, inventoryMessages, RESERVE_PATH } from '../helpers/grpc-example.js';
import { createTestIssuer, type TestIssuer } from '../helpers/jwt-issuer.js';

const CARD = { number: '4111111111111111', expiry: '12/29' };
const VALID = { sku: 'AB-1', quantity: 2, card: CARD, tags: [] };
let dir: string;
let issuer: TestIssuer;
let fx: Fixture;
let messages: ReturnType<typeof inventoryMessages>;
let token: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'callguard-grpc-it-'));
  const descriptorSet = buildDescriptorSet(dir);
  messages = inventoryMessages(descriptorSet);
  issuer = await createTestIssuer();
  fx = await startFixture(issuer.jwksUrl, issuer.url, undefined, (config) => {
    (config.functions as unknown[]).push(inventoryReserveFunction(descriptorSet, 'corp'));
  });
  token = await issuer.mint({ claims: { sub: 'alice', groups: ['orders-writers'] } });
});
afterAll(async () => {
  await fx?.close();
  await issuer?.close();
  rmSync(dir, { recursive: true, force: true });
});

const grpcCall = (body: Uint8Array, headers: Record<string, string> = {}) =>
  fx.client.check({
    path: RESERVE_PATH,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/grpc', te: 'trailers', ...headers },
    body,
  });
const lastLine = () => fx.log.lines.at(-1) as Record<string, unknown>;

describe('gRPC payloads through the real Check server', () => {
  it('allows a valid request message and logs its masked fields', async () => {
    const response = await grpcCall(grpcFrame(messages.reserve(VALID)), { 'x-request-id': 'grpc-ok' });
    expect(response.httpResponse.case).toBe('okResponse');
    expect(lastLine()).toMatchObject({
      requestId: 'grpc-ok',
      function: 'inventory.reserve',
      outcome: 'allow',
      payload: { contentType: 'application/grpc', bytes: expect.any(Number), fields: { '/sku': 'AB-1', '/quantity': 2, '/card/number': '[masked]' } },
    });
    expect(fx.log.raw.at(-1)).not.toContain('4111');
  });

  it.each([
    {
      name: 'schema violation',
      body: () => grpcFrame(messages.reserve({ ...VALID, quantity: 0 })),
      code: 'ERR_BODY_SCHEMA',
      grpcStatus: '3',
      message: /^ERR_BODY_SCHEMA: .*\/quantity minimum: must be >= 1 \(decision /,
    },
    {
      name: 'unknown field',
      body: () => grpcFrame(concat(messages.reserve(VALID), Uint8Array.of(0xf8, 0x06, 0x01))),
      code: 'ERR_BODY_GRPC_MESSAGE',
      grpcStatus: '3',
      message: /unknown field 111/,
    },
    {
      name: 'two messages',
      body: () => concat(grpcFrame(messages.reserve(VALID)), grpcFrame(messages.reserve(VALID))),
      code: 'ERR_BODY_GRPC_FRAME',
      grpcStatus: '3',
      message: /more than one message/,
    },
    { name: 'compressed message', body: () => grpcFrame(messages.reserve(VALID), 1), code: 'ERR_BODY_GRPC_FRAME', grpcStatus: '3', message: /compressed/ },
    {
      name: 'length mismatch',
      body: () => grpcFrame(messages.reserve(VALID), 0, 999),
      code: 'ERR_BODY_GRPC_FRAME',
      grpcStatus: '3',
      message: /declares 999 bytes/,
    },
  ])('denies $name as gRPC status $grpcStatus ($code), logged', async ({ body, code, grpcStatus, message }) => {
    const response = await grpcCall(body(), { 'x-request-id': `grpc-${code}` });
    expect(response.httpResponse.case).toBe('deniedResponse');
    if (response.httpResponse.case !== 'deniedResponse') return;
    const denied = response.httpResponse.value;
    const headers = Object.fromEntries(denied.headers.map((h) => [h.header?.key, h.header?.value]));
    expect(headers['grpc-status']).toBe(grpcStatus);
    expect(headers['content-type']).toBeUndefined();
    expect(denied.body).toMatch(message);
    expect(lastLine()).toMatchObject({ requestId: `grpc-${code}`, function: 'inventory.reserve', outcome: 'deny', status: 400, code });
    expect(fx.log.raw.at(-1)).not.toContain('4111');
  });

  it('denies a gRPC caller without a credential as UNAUTHENTICATED', async () => {
    const response = await grpcCall(grpcFrame(messages.reserve(VALID)), { authorization: '' });
    if (response.httpResponse.case !== 'deniedResponse') throw new Error('expected a denial');
    const headers = Object.fromEntries(response.httpResponse.value.headers.map((h) => [h.header?.key, h.header?.value]));
    expect(headers['grpc-status']).toBe('16');
  });

  it('keeps problem details for a JSON caller of the same function', async () => {
    const response = await fx.client.check({
      path: RESERVE_PATH,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(VALID),
    });
    if (response.httpResponse.case !== 'deniedResponse') throw new Error('expected a denial');
    const headers = Object.fromEntries(response.httpResponse.value.headers.map((h) => [h.header?.key, h.header?.value]));
    expect(headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(response.httpResponse.value.body)).toMatchObject({
      code: 'ERR_CONTENT_TYPE',
      detail: 'the content type must be application/grpc (protobuf messages)',
    });
  });
});
