import { readFileSync } from 'node:fs';
import { create, createFileRegistry, type DescMessage, fromBinary, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { buildInventoryDescriptorSet, INVENTORY_SCHEMA, INVENTORY_SERVICE } from '../../scripts/lib/grpc-example-stack.js';

export const RESERVE_METHOD = `${INVENTORY_SERVICE}/Reserve`;
export const RESERVE_PATH = `/${INVENTORY_SERVICE}/Reserve`;
export const RESERVE_SCHEMA = INVENTORY_SCHEMA;
/** `buf build` of a proto directory (default: examples/grpc) into `dir`; returns the descriptor set file. */
export const buildDescriptorSet = buildInventoryDescriptorSet;

/** Encodes request messages of the example service with the real protobuf-es encoder. */
export function inventoryMessages(descriptorSet: string) {
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(descriptorSet)));
  const request = registry.getMessage('example.inventory.v1.ReserveRequest') as DescMessage;
  return {
    request,
    reserve: (init: MessageInitShape<DescMessage>): Uint8Array => toBinary(request, create(request, init)),
  };
}

/** One gRPC length-prefixed message: compressed-flag, 4-byte big-endian length, the message. */
export function grpcFrame(message: Uint8Array, flag = 0, declaredLength = message.length): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  out[0] = flag;
  new DataView(out.buffer).setUint32(1, declaredLength);
  out.set(message, 5);
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}
