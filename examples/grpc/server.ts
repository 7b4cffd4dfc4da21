/**
 * The example gRPC function: example.inventory.v1.Inventory (inventory.proto) on grpc-js. It trusts what
 * reaches it because only Envoy can: it listens on a unix socket (`unix:/path`) in a directory only the
 * proxy's user can open, so there is no network path around Envoy and callguard. (A function on a TCP port
 * must pin Envoy's client certificate instead, as examples/function/server.ts does.)
 *
 * Reserve answers with a reservation id and the subject callguard vouched for (`x-callguard-subject`);
 * `received` lists every request message it decoded, so the tests can check a denied call never arrived.
 */
import { readFileSync } from 'node:fs';
import { create, createFileRegistry, type DescMessage, fromBinary, toBinary, toJson } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';

export interface InventoryServer {
  /** Each request message as proto3 JSON, with the identity callguard passed on. */
  readonly received: { readonly method: string; readonly message: unknown; readonly subject: string | undefined }[];
  close(): Promise<void>;
}

/** Serves Inventory on `address` (e.g. `unix:/run/inventory.sock`), decoding with the descriptor set file. */
export async function startInventoryServer(address: string, descriptorSet: string): Promise<InventoryServer> {
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(descriptorSet)));
  const request = registry.getMessage('example.inventory.v1.ReserveRequest') as DescMessage;
  const reply = registry.getMessage('example.inventory.v1.ReserveReply') as DescMessage;
  const received: InventoryServer['received'] = [];
  const method = (name: string, requestStream: boolean) => ({
    path: `/example.inventory.v1.Inventory/${name}`,
    requestStream,
    responseStream: false,
    requestDeserialize: (bytes: Buffer) => toJson(request, fromBinary(request, bytes)),
    requestSerialize: (value: unknown) => Buffer.from(value as Uint8Array),
    responseSerialize: (value: unknown) => Buffer.from(toBinary(reply, create(reply, value as Record<string, unknown>))),
    responseDeserialize: (bytes: Buffer) => bytes,
  });
  const subjectOf = (metadata: grpc.Metadata): string | undefined => metadata.get('x-callguard-subject')[0]?.toString();
  let next = 0;
  const server = new grpc.Server();
  server.addService(
    { Reserve: method('Reserve', false), ReserveBatch: method('ReserveBatch', true) },
    {
      Reserve: (call: grpc.ServerUnaryCall<unknown, unknown>, done: grpc.sendUnaryData<unknown>) => {
        const subject = subjectOf(call.metadata);
        received.push({ method: 'Reserve', message: call.request, subject });
        done(null, { reservationId: `r-${++next} for ${subject ?? 'nobody'}` });
      },
      ReserveBatch: (call: grpc.ServerReadableStream<unknown, unknown>, done: grpc.sendUnaryData<unknown>) => {
        const subject = subjectOf(call.metadata);
        call.on('data', (message: unknown) => received.push({ method: 'ReserveBatch', message, subject }));
        call.on('end', () => done(null, { reservationId: `r-${++next} for ${subject ?? 'nobody'}` }));
      },
    },
  );
  await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
  return {
    received,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
