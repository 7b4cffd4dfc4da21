import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFileRegistry, type DescMessage, fromBinary, fromJson, type JsonValue, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { type Fixtures, orderBody } from './fixtures.js';

const ROOT = join(import.meta.dirname, '..');
const METHOD = 'bench.orders.v1.Orders/Create';

/**
 * The bench order (the JSON scenarios' body) as one gRPC request message: bench/order.proto built with buf
 * into the fixtures directory, the order encoded with protobuf-es and framed (flag 0, 4-byte length).
 */
export function grpcOrder(fixtures: Fixtures): { descriptorSet: string; method: string; body: Uint8Array } {
  const descriptorSet = join(fixtures.dir, 'order.binpb');
  execFileSync(join(ROOT, 'node_modules/.bin/buf'), ['build', join(ROOT, 'bench/order.proto'), '-o', descriptorSet], { cwd: ROOT, stdio: 'pipe' });
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(descriptorSet)));
  const order = registry.getMessage('bench.orders.v1.Order') as DescMessage;
  const message = toBinary(order, fromJson(order, orderBody() as JsonValue));
  const body = new Uint8Array(5 + message.length);
  new DataView(body.buffer).setUint32(1, message.length);
  body.set(message, 5);
  return { descriptorSet, method: METHOD, body };
}
