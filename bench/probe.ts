/**
 * One Check call before each scenario, to prove the load measures the intended path: a scenario meant to
 * allow must get status OK, one meant to deny must get a denial with the expected HTTP status. Without it a
 * misconfigured run (every call denied early) would look fast and be meaningless.
 */
import * as grpc from '@grpc/grpc-js';
import type { CheckRequest, CheckResponse } from '../src/gen/envoy/service/auth/v3/external_auth_pb.js';
import { checkServiceDefinition } from './noop-server.js';

export interface ProbeResult {
  /** google.rpc.Code of `CheckResponse.status` (0 = OK = allow). */
  readonly rpcCode: number;
  /** `denied_response.status.code` on a denial, else undefined. */
  readonly httpStatus?: number;
  /** First 200 characters of the denial body, to explain an unexpected denial. */
  readonly deniedBody?: string;
}

const CheckClient = grpc.makeGenericClientConstructor(checkServiceDefinition, 'Authorization');

/** Sends `request` once to `address` and reports the decision. */
export function probeCheck(address: string, request: CheckRequest): Promise<ProbeResult> {
  const client = new CheckClient(address, grpc.credentials.createInsecure());
  return new Promise<ProbeResult>((resolve, reject) => {
    client.makeUnaryRequest<CheckRequest, CheckResponse>(
      checkServiceDefinition.Check?.path ?? '',
      (message) => Buffer.from(checkServiceDefinition.Check?.requestSerialize(message) ?? []),
      (bytes) => checkServiceDefinition.Check?.responseDeserialize(bytes) as CheckResponse,
      request,
      { deadline: Date.now() + 5000 },
      (error, response) => {
        client.close();
        if (error !== null || response === undefined) return reject(error ?? new Error('no response'));
        const rpcCode = response.status?.code ?? 0;
        if (response.httpResponse.case !== 'deniedResponse') return resolve({ rpcCode });
        const denied = response.httpResponse.value;
        resolve({ rpcCode, httpStatus: denied.status?.code ?? 403, deniedBody: denied.body.slice(0, 200) });
      },
    );
  });
}

/** Throws unless the probe matches the scenario's expectation (`expectHttp` undefined = expect allow). */
export function assertProbe(scenario: string, probe: ProbeResult, expectHttp: number | undefined): void {
  const allowed = probe.rpcCode === 0 && probe.httpStatus === undefined;
  if (expectHttp === undefined ? allowed : probe.httpStatus === expectHttp) return;
  const want = expectHttp === undefined ? 'allow' : `deny ${expectHttp}`;
  throw new Error(`scenario ${scenario}: expected ${want}, got ${JSON.stringify(probe)}`);
}
