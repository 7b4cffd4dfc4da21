import * as grpc from '@grpc/grpc-js';

/**
 * grpc.health.v1.Health/Check, hand-encoded (two tiny messages; no generated code needed).
 * HealthCheckRequest { string service = 1; } → HealthCheckResponse { ServingStatus status = 1; }
 */
const SERVING = 1;
const NOT_SERVING = 2;

export const HEALTH_SERVICE: grpc.ServiceDefinition = {
  Check: {
    path: '/grpc.health.v1.Health/Check',
    requestStream: false,
    responseStream: false,
    requestSerialize: (v: Buffer) => v,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (v: Buffer) => v,
    responseDeserialize: (b: Buffer) => b,
  },
};

export function healthHandlers(services: ReadonlySet<string>, isServing: () => boolean): grpc.UntypedServiceImplementation {
  return {
    Check(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
      const service = readServiceName(call.request);
      if (service === undefined) {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: 'malformed HealthCheckRequest' });
        return;
      }
      if (service !== '' && !services.has(service)) {
        callback({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
        return;
      }
      callback(null, Buffer.from([0x08, isServing() ? SERVING : NOT_SERVING]));
    },
  };
}

/** Reads field 1 (string) of HealthCheckRequest; undefined when the bytes are not that message. */
function readServiceName(bytes: Buffer): string | undefined {
  if (bytes.length === 0) return '';
  if (bytes[0] !== 0x0a) return undefined;
  let length = 0;
  let shift = 0;
  let i = 1;
  for (; i < bytes.length && i < 6; i++) {
    const b = bytes[i] as number;
    length |= (b & 0x7f) << shift;
    shift += 7;
    if ((b & 0x80) === 0) break;
  }
  const start = i + 1;
  if (start + length !== bytes.length) return undefined;
  return bytes.subarray(start, start + length).toString('utf8');
}
