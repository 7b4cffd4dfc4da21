/**
 * Sends one Envoy-shaped CheckRequest to a running callguard and prints the decision: a way to
 * see callguard decide without Envoy in front (`npm start` in another terminal first).
 *
 *   tsx scripts/send-check.ts [--address 127.0.0.1:9191] [--method POST] [--path /orders]
 *                             [--token JWT] [--body JSON] [--content-type application/json]
 *                             [--plaintext]   # pretend the caller reached Envoy without TLS
 */

import { parseArgs } from 'node:util';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { CheckRequestSchema, CheckResponseSchema } from '../src/gen/envoy/service/auth/v3/external_auth_pb.js';

const { values } = parseArgs({
  options: {
    address: { type: 'string', default: '127.0.0.1:9191' },
    method: { type: 'string', default: 'POST' },
    path: { type: 'string', default: '/orders' },
    token: { type: 'string' },
    'api-key': { type: 'string' },
    body: { type: 'string' },
    'content-type': { type: 'string', default: 'application/json' },
    plaintext: { type: 'boolean', default: false },
  },
  strict: true,
});

const headers: Record<string, string> = {
  ':method': values.method,
  ':path': values.path,
  ':authority': 'functions.internal',
  'x-request-id': `send-check-${Date.now()}`,
  'x-forwarded-proto': 'https',
};
if (values.token !== undefined) headers.authorization = `Bearer ${values.token}`;
if (values['api-key'] !== undefined) headers['x-api-key'] = values['api-key'];
const body = values.body !== undefined ? new TextEncoder().encode(values.body) : undefined;
if (body !== undefined) {
  headers['content-type'] = values['content-type'];
  headers['x-envoy-auth-partial-body'] = 'false';
}
const request = create(CheckRequestSchema, {
  attributes: {
    source: { address: { address: { case: 'socketAddress', value: { address: '127.0.0.1', portSpecifier: { case: 'portValue', value: 50000 } } } } },
    // Envoy fills destination.principal from its own certificate only on a TLS connection.
    destination: { principal: values.plaintext ? '' : 'envoy.example.test' },
    request: { http: { method: values.method, path: values.path, host: 'functions.internal', scheme: 'https', headers, ...(body ? { rawBody: body } : {}) } },
  },
});

const client = new grpc.Client(values.address, grpc.credentials.createInsecure());
client.makeUnaryRequest(
  '/envoy.service.auth.v3.Authorization/Check',
  (b: Uint8Array) => Buffer.from(b),
  (b: Buffer) => fromBinary(CheckResponseSchema, b),
  toBinary(CheckRequestSchema, request),
  (err, response) => {
    client.close();
    if (err || response === undefined) {
      process.stderr.write(`send-check: ${err?.message ?? 'no response'}\n`);
      process.exitCode = 1;
      return;
    }
    const r = response.httpResponse;
    const headersOf = (list: { header?: { key: string; value: string } | undefined }[]) =>
      Object.fromEntries(list.map((h) => [h.header?.key ?? '', h.header?.value ?? '']));
    if (r.case === 'okResponse') {
      process.stdout.write(
        `${JSON.stringify({ decision: 'allow', setHeaders: headersOf(r.value.headers), removeHeaders: r.value.headersToRemove }, null, 2)}\n`,
      );
    } else if (r.case === 'deniedResponse') {
      process.stdout.write(
        `${JSON.stringify({ decision: 'deny', status: r.value.status?.code, headers: headersOf(r.value.headers), body: JSON.parse(r.value.body) }, null, 2)}\n`,
      );
    }
  },
);
