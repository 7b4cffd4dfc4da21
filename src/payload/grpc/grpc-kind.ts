import { createHash } from 'node:crypto';
import { fromBinary, toJson } from '@bufbuild/protobuf';
import { ConfigError, type ConfigProblem } from '../../errors.js';
import { maskFields } from '../mask-fields.js';
import type { ParsedPayload, PayloadInspector, PayloadKind } from '../payload-inspector.js';
import { findUnknownField } from './check-message-tree.js';
import { loadGrpcMethod } from './load-grpc-method.js';
import { readGrpcFrames } from './read-grpc-frames.js';

const GRPC_TYPE = 'application/grpc';
/** gRPC's media types for protobuf messages (PROTOCOL-HTTP2.md: `application/grpc` means `+proto`). */
const PROTO_TYPES = new Set([GRPC_TYPE, 'application/grpc+proto']);

/**
 * `application/grpc`: the length-prefixed messages of one gRPC call (Envoy `pack_as_bytes: true`),
 * decoded with the function's descriptor set as its method's input type, then validated and logged in
 * their proto3 JSON form (field JSON names, every field present with its default, int64 as strings,
 * bytes as base64): the message for a unary or server-streaming method, an array of messages for a
 * client-streaming one. Defaults are present so the schema sees what the function reads: a field
 * absent on the wire is the zero value to the function, and a `minimum` must apply to it.
 */
export const grpcKind: PayloadKind = {
  contentType: GRPC_TYPE,
  section: 'grpc',
  compile(input, { configFile, inputPath, schemas }) {
    const problems: ConfigProblem[] = [];
    const grpc = input.grpc;
    if (grpc === undefined)
      problems.push({ file: configFile, path: inputPath, message: `contentType ${GRPC_TYPE} requires a grpc block (descriptorSet, method)` });
    const loaded = grpc === undefined ? undefined : loadGrpcMethod(grpc, configFile, `${inputPath}/grpc`, problems);
    let compiled: ReturnType<typeof schemas.compile> | undefined;
    try {
      compiled = schemas.compile(input, configFile, `${inputPath}/schema`);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
    }
    if (grpc === undefined || loaded === undefined || compiled === undefined || problems.length > 0) throw new ConfigError(problems);

    const { method, registry } = loaded;
    const desc = method.input;
    const streaming = method.methodKind === 'client_streaming';
    const maxMessages = grpc.maxMessages;
    const denyUnknown = grpc.unknownFields === 'deny';
    const decode = (bytes: Uint8Array, index: number, recursionLimit: number): ParsedPayload => {
      const which = streaming ? `message ${index}` : 'the message';
      let value: unknown;
      try {
        const message = fromBinary(desc, bytes, { readUnknownFields: true, recursionLimit });
        const unknown = findUnknownField(desc, message, denyUnknown);
        if (unknown !== undefined) return { ok: false, code: 'ERR_BODY_GRPC_MESSAGE', detail: `${which}: ${unknown}` };
        value = toJson(desc, message, { alwaysEmitImplicit: true, registry });
      } catch (err) {
        return { ok: false, code: 'ERR_BODY_GRPC_MESSAGE', detail: `${which} is not a valid ${desc.typeName}: ${decodeFailure(err)}` };
      }
      return { ok: true, value };
    };
    const inspector: PayloadInspector = {
      contentType: GRPC_TYPE,
      digest: createHash('sha256').update(`${compiled.schemaDigest}\n${loaded.digest}`).digest('base64url'),
      schemaFile: compiled.schemaFile,
      sensitive: compiled.sensitive,
      logFields: compiled.logFields,
      recognize: (media) => (PROTO_TYPES.has(media.essence) ? undefined : `the content type must be ${GRPC_TYPE} (protobuf messages)`),
      parse(bytes, limits) {
        const frames = readGrpcFrames(bytes, maxMessages);
        if (!frames.ok) return { ok: false, code: 'ERR_BODY_GRPC_FRAME', detail: frames.detail };
        if (!streaming) return decode(frames.messages[0] as Uint8Array, 0, limits.maxDepth);
        const values: unknown[] = [];
        for (const [i, bytes] of frames.messages.entries()) {
          const one = decode(bytes, i, limits.maxDepth);
          if (!one.ok) return one;
          values.push(one.value);
        }
        return { ok: true, value: values };
      },
      validate: compiled.validate,
      summarize: (value) => maskFields(value, inspector),
    };
    return Object.freeze(inspector);
  },
};

/**
 * protobuf-es's error as one of a fixed set of reasons. Its messages can carry request data (a number out of
 * range, an `Any`'s type URL, an enum value), and a denial's detail never does.
 */
function decodeFailure(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  if (message.includes('premature EOF')) return 'a field runs past the end of the message';
  if (message.includes('recursion depth')) return 'messages nest deeper than payload.maxDepth';
  if (/utf-?8/i.test(message)) return 'a string field is not valid UTF-8';
  if (message.includes('illegal tag') || message.includes('wire type') || message.includes('end group')) return 'a field has an invalid tag or wire type';
  if (message.includes('type registry') || message.includes('Any')) return 'a google.protobuf.Any holds a type the descriptor set does not define';
  return 'it does not decode';
}
