import { hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createFileRegistry, type DescMethod, fromBinary, type Registry } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import type { GrpcInputConfig } from '../../config/types.js';
import type { ConfigProblem } from '../../errors.js';

export interface GrpcMethod {
  readonly method: DescMethod;
  /** Every type of the descriptor set: resolves `google.protobuf.Any` contents in the JSON form. */
  readonly registry: Registry;
  /** SHA-256 (base64url) of the descriptor set file's bytes. */
  readonly digest: string;
}

/** `package.Service/Method` or `package.Service.Method`. */
const METHOD_NAME = /^([A-Za-z_][\w.]*)[./]([A-Za-z_]\w*)$/;

/**
 * Reads `grpc.descriptorSet` and finds `grpc.method` in it. Every problem goes to `problems` (naming
 * the config file and key, or the descriptor file), none is thrown; undefined when there were any.
 */
export function loadGrpcMethod(grpc: GrpcInputConfig, configFile: string, grpcPath: string, problems: ConfigProblem[]): GrpcMethod | undefined {
  const at = (key: string, message: string): void => void problems.push({ file: configFile, path: `${grpcPath}/${key}`, message });
  const name = METHOD_NAME.exec(grpc.method);
  if (name === null) at('method', `"${grpc.method}" is not a fully qualified method (package.Service/Method)`);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(grpc.descriptorSet);
  } catch (err) {
    at('descriptorSet', `cannot read descriptor set ${grpc.descriptorSet}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    return undefined;
  }
  let registry: ReturnType<typeof createFileRegistry>;
  try {
    registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, bytes));
  } catch (err) {
    // A file that is not a FileDescriptorSet, or one built without its imports (`--include_imports`).
    const why = err instanceof Error ? err.message : String(err);
    problems.push({ file: grpc.descriptorSet, path: grpcPath, message: `not a usable protobuf descriptor set: ${why}` });
    return undefined;
  }
  if (name === null) return undefined;
  const [, serviceName = '', methodName = ''] = name;
  const service = registry.getService(serviceName);
  if (service === undefined) {
    const known = [...registry].filter((d) => d.kind === 'service').map((d) => d.typeName);
    at('method', `no service ${serviceName} in ${grpc.descriptorSet} (services: ${known.join(', ') || 'none'})`);
    return undefined;
  }
  const method = service.methods.find((m) => m.name === methodName);
  if (method === undefined) {
    at('method', `service ${serviceName} has no method ${methodName} (methods: ${service.methods.map((m) => m.name).join(', ') || 'none'})`);
    return undefined;
  }
  // ext_authz decides once the whole body is buffered: a bidirectional stream would wait for its end.
  if (method.methodKind === 'bidi_streaming') {
    at('method', `${serviceName}/${methodName} is bidirectional streaming; only unary, server- and client-streaming methods can be inspected`);
    return undefined;
  }
  if (method.methodKind !== 'client_streaming' && grpc.maxMessages !== 1) {
    at('maxMessages', `${serviceName}/${methodName} is ${method.methodKind.replace('_', '-')}: its request is exactly one message`);
    return undefined;
  }
  return { method, registry, digest: hash('sha256', bytes, 'base64url') };
}
