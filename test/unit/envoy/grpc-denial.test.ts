import { describe, expect, it } from 'vitest';
import type { Deny } from '../../../src/decision.js';
import { grpcStatusOf, isGrpcCall } from '../../../src/envoy/grpc-denial.js';
import { toCheckResponse } from '../../../src/envoy/to-check-response.js';
import { REASON_CODES, REASONS } from '../../../src/errors.js';

describe('isGrpcCall: the content types Envoy answers as gRPC (Grpc::Common::hasGrpcContentType)', () => {
  it.each([
    { type: 'application/grpc', grpc: true },
    { type: 'application/grpc+proto', grpc: true },
    { type: 'application/grpc;charset=utf-8', grpc: true },
    { type: 'application/grpc-web', grpc: false },
    { type: 'application/json', grpc: false },
    { type: undefined, grpc: false },
  ])('$type → $grpc', ({ type, grpc }) => {
    expect(isGrpcCall(type)).toBe(grpc);
  });
});

describe('toCheckResponse for a gRPC caller', () => {
  it.each([
    { name: 'schema violation', status: 400, code: 'ERR_BODY_SCHEMA' as const, grpcStatus: '3', www: undefined },
    { name: 'no credential', status: 401, code: 'ERR_CREDENTIAL_MISSING' as const, grpcStatus: '16', www: 'Bearer realm="callguard"' },
    { name: 'not permitted', status: 403, code: 'ERR_NOT_PERMITTED' as const, grpcStatus: '7', www: undefined },
    { name: 'unknown function', status: 404, code: 'ERR_FUNCTION_UNKNOWN' as const, grpcStatus: '12', www: undefined },
  ])('$name → grpc-status $grpcStatus, the reason in grpc-message', ({ status, code, grpcStatus, www }) => {
    const deny: Deny = {
      allow: false,
      status,
      code,
      decisionId: 'd-7',
      detail: 'public detail',
      violations: [{ code, pointer: '/quantity', keyword: 'minimum', detail: 'must be >= 1' }],
      internal: 'SECRET-INTERNAL',
      ...(www ? { wwwAuthenticate: www } : {}),
    };
    const response = toCheckResponse(deny, 'x-callguard-', true);
    expect(response.httpResponse.case).toBe('deniedResponse');
    if (response.httpResponse.case !== 'deniedResponse') return;
    const denied = response.httpResponse.value;
    const headers = Object.fromEntries(denied.headers.map((h) => [h.header?.key, h.header?.value]));
    // Envoy makes the local reply HTTP 200 application/grpc itself; a problem+json content-type is not sent.
    expect(headers).toEqual({ 'grpc-status': grpcStatus, 'x-callguard-decision-id': 'd-7', ...(www ? { 'www-authenticate': www } : {}) });
    expect(denied.status?.code).toBe(status);
    expect(denied.body).toBe(`${code}: public detail: /quantity minimum: must be >= 1 (decision d-7)`);
    expect(JSON.stringify(response)).not.toContain('SECRET-INTERNAL');
  });

  it('every reason code maps to a gRPC status other than OK', () => {
    for (const code of REASON_CODES) expect(grpcStatusOf(REASONS[code].status)).toBeGreaterThan(0);
  });
});
