/**
 * The baseline: a `@grpc/grpc-js` ext_authz Check server that decodes each CheckRequest with protobuf-es and
 * answers OK without deciding anything. Whatever callguard costs on top of this is the price of its decision.
 *
 * Run as a script: `node --import tsx bench/noop-server.ts [--listen 127.0.0.1:0]`. When bound it writes one
 * JSON line to stderr, `{"msg":"noop listening","address":"HOST:PORT"}`, the same readiness signal callguard
 * writes, so the harness waits on both the same way.
 */

import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { type CheckRequest, CheckRequestSchema, type CheckResponse, CheckResponseSchema } from '../src/gen/envoy/service/auth/v3/external_auth_pb.js';

/** gRPC status code OK (google.rpc.Code). Envoy ext_authz: status OK means allow. */
const RPC_OK = 0;

/**
 * Hand-written service definition: grpc-js only needs the path and the (de)serializers, so protobuf-es does
 * the encoding and no proto-loader or generated grpc-js stubs are involved.
 */
export const checkServiceDefinition: grpc.ServiceDefinition = {
  Check: {
    path: '/envoy.service.auth.v3.Authorization/Check',
    requestStream: false,
    responseStream: false,
    requestSerialize: (message: CheckRequest) => Buffer.from(toBinary(CheckRequestSchema, message)),
    requestDeserialize: (bytes: Buffer) => fromBinary(CheckRequestSchema, bytes),
    responseSerialize: (message: CheckResponse) => Buffer.from(toBinary(CheckResponseSchema, message)),
    responseDeserialize: (bytes: Buffer) => fromBinary(CheckResponseSchema, bytes),
  },
};

/** Answers OK: the request was already decoded by `requestDeserialize`; the response is encoded per call. */
function answerOk(_call: grpc.ServerUnaryCall<CheckRequest, CheckResponse>, callback: grpc.sendUnaryData<CheckResponse>): void {
  callback(null, create(CheckResponseSchema, { status: { code: RPC_OK } }));
}

/** Starts the no-op server; resolves with the bound `host:port` and a stop function. */
export async function startNoopServer(listen = '127.0.0.1:0'): Promise<{ address: string; stop: () => Promise<void> }> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024 });
  server.addService(checkServiceDefinition, { Check: answerOk });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(listen, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  const host = listen.slice(0, listen.lastIndexOf(':'));
  return {
    address: `${host}:${port}`,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { listen: { type: 'string', default: '127.0.0.1:0' } } });
  const { address, stop } = await startNoopServer(values.listen);
  process.stderr.write(`${JSON.stringify({ msg: 'noop listening', address, pid: process.pid })}\n`);
  const shutdown = (): void => {
    void stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  });
}
