import { create } from '@bufbuild/protobuf';
import type { Decision, Deny, UpstreamChanges } from '../decision.js';
import { HeaderValueOption_HeaderAppendAction, HeaderValueOptionSchema } from '../gen/envoy/config/core/v3/base_pb.js';
import { type CheckResponse, CheckResponseSchema } from '../gen/envoy/service/auth/v3/external_auth_pb.js';
import { StatusSchema } from '../gen/google/rpc/status_pb.js';
import { grpcMessage, grpcStatusOf } from './grpc-denial.js';
import { problemDetails } from './problem-details.js';

/** google.rpc.Code values Envoy reads: OK allows; anything else denies with `denied_response`. */
const GRPC_OK = 0;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_UNAUTHENTICATED = 16;
const OVERWRITE = HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD;

/**
 * Decision → CheckResponse. Always explicit: an empty CheckResponse would mean OK to Envoy, and
 * a thrown gRPC error would hand the outcome to Envoy's failure mode instead of our decision.
 * `grpc`: the call is gRPC (see isGrpcCall), so a denial is made to reach its client as a gRPC status.
 */
export function toCheckResponse(decision: Decision, headerPrefix: string, grpc = false): CheckResponse {
  if (decision.allow) return okResponse(decision);
  // A shadow-mode denial is let through (functions[].mode), with its own upstream changes.
  if (decision.shadow !== undefined) return okResponse(decision.shadow);
  return create(CheckResponseSchema, {
    status: create(StatusSchema, { code: decision.status === 401 ? GRPC_UNAUTHENTICATED : GRPC_PERMISSION_DENIED, message: decision.code }),
    httpResponse: { case: 'deniedResponse', value: grpc ? grpcDeniedResponse(decision, headerPrefix) : deniedResponse(decision, headerPrefix) },
  });
}

function okResponse(changes: UpstreamChanges): CheckResponse {
  return create(CheckResponseSchema, {
    status: create(StatusSchema, { code: GRPC_OK }),
    httpResponse: {
      case: 'okResponse',
      value: {
        headers: Object.entries(changes.setHeaders).map(([key, value]) => header(key, value)),
        headersToRemove: [...changes.removeHeaders],
        queryParametersToRemove: [...changes.removeQueryParameters],
      },
    },
  });
}

function deniedResponse(decision: Deny, headerPrefix: string) {
  const headers = [header('content-type', 'application/problem+json'), header('cache-control', 'no-store')];
  // A call refused by admission control was never decided: no decision id, no line to look up.
  if (decision.decisionId !== '') headers.push(header(`${headerPrefix}decision-id`, decision.decisionId));
  if (decision.wwwAuthenticate !== undefined) headers.push(header('www-authenticate', decision.wwwAuthenticate));
  // envoy.type.v3.StatusCode numbers are the HTTP status codes themselves.
  return { status: { code: decision.status }, headers, body: JSON.stringify(problemDetails(decision)) };
}

/**
 * For a gRPC caller: Envoy turns this into a trailers-only response (HTTP 200, `application/grpc`),
 * keeping our `grpc-status` and making the body `grpc-message` (see isGrpcCall). The HTTP status stays
 * the code's, for Envoy's access log and stats.
 */
function grpcDeniedResponse(decision: Deny, headerPrefix: string) {
  const headers = [header('grpc-status', String(grpcStatusOf(decision.status)))];
  if (decision.decisionId !== '') headers.push(header(`${headerPrefix}decision-id`, decision.decisionId));
  if (decision.wwwAuthenticate !== undefined) headers.push(header('www-authenticate', decision.wwwAuthenticate));
  return { status: { code: decision.status }, headers, body: grpcMessage(decision) };
}

function header(key: string, value: string) {
  return create(HeaderValueOptionSchema, { header: { key, value }, appendAction: OVERWRITE });
}
