import type { Deny } from '../decision.js';

/**
 * Whether Envoy answers this request's denial as gRPC. Envoy's local reply (which ext_authz's denial is,
 * source/common/http/utility.cc prepareLocalReply) is a trailers-only gRPC response for a request whose
 * content-type is `application/grpc`, or starts with `application/grpc+` or `application/grpc;`
 * (Grpc::Common::hasGrpcContentType): HTTP 200, `content-type: application/grpc`, the denied response's
 * headers kept, a `grpc-status` header among them kept (else mapped from the HTTP status), and the body
 * percent-encoded into `grpc-message`. A gRPC client reads nothing else, so the denial is made for that.
 */
export function isGrpcCall(contentType: string | undefined): boolean {
  return (
    contentType !== undefined &&
    (contentType === 'application/grpc' || contentType.startsWith('application/grpc+') || contentType.startsWith('application/grpc;'))
  );
}

/** google.rpc.Code for a denial's HTTP status (doc/statuscodes.md; unknown method: UNIMPLEMENTED, as gRPC servers answer). */
export function grpcStatusOf(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return 3; // INVALID_ARGUMENT
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 12; // UNIMPLEMENTED
    case 413:
    case 429:
      return 8; // RESOURCE_EXHAUSTED
    case 503:
      return 14; // UNAVAILABLE
    default:
      return 13; // INTERNAL
  }
}

/** At most this many violations are spelled out in `grpc-message` (the rest are counted by the detail). */
const MESSAGE_VIOLATIONS = 5;

/**
 * The text Envoy puts in `grpc-message`: the code, the public detail, the first schema violations and
 * the decision id (a gRPC client cannot read the problem-details body). Public fields only, as there.
 */
export function grpcMessage(decision: Deny): string {
  const violations = decision.violations
    .filter((v) => v.pointer !== undefined)
    .slice(0, MESSAGE_VIOLATIONS)
    .map((v) => `${v.pointer === '' ? '(root)' : v.pointer} ${v.keyword ?? ''}: ${v.detail}`);
  const listed = violations.length > 0 ? `: ${violations.join('; ')}` : '';
  const id = decision.decisionId === '' ? '' : ` (decision ${decision.decisionId})`;
  return `${decision.code}: ${decision.detail}${listed}${id}`;
}
