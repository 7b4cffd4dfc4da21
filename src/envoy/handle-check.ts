import { toBinary } from '@bufbuild/protobuf';
import type { Admission } from '../admission.js';
import type { AuditGate } from '../audit-gate.js';
import type { CallAttempt } from '../call-attempt.js';
import type { Decide } from '../decide.js';
import type { Decision, Deny } from '../decision.js';
import { type DecisionMeter, NO_METER } from '../decision-meter.js';
import { REASONS, type ReasonCode } from '../errors.js';
import { CheckResponseSchema } from '../gen/envoy/service/auth/v3/external_auth_pb.js';
import { encodeAllow } from './encode-allow.js';
import { isGrpcCall } from './grpc-denial.js';
import { readCheckRequest } from './read-check-request.js';
import { toCallAttempt } from './to-call-attempt.js';
import { toCheckResponse } from './to-check-response.js';

export interface CheckHandlerParts {
  readonly decide: Decide;
  readonly audit: AuditGate;
  readonly admission: Admission;
  readonly headerPrefix: string;
  readonly newDecisionId: () => string;
  /** Counts each answer (metrics); none by default. */
  readonly meter?: DecisionMeter;
}

/**
 * Envoy ext_authz gRPC boundary: CheckRequest bytes in, CheckResponse bytes out. Never throws or
 * rejects: a malformed request or any internal error is a denial (ERR_*), because a gRPC error
 * would let Envoy's failure mode decide instead of us.
 *
 * A call admitted gets one decision-log line and is answered through the audit gate
 * ({@link AuditGate}); a call refused by admission control (overload, log unavailable) is
 * answered at once with an explicit 503 denial, and counted, not logged one line each: that is
 * what keeps an overload from becoming a backlog. Synchronous when nothing waits, else a promise.
 */
export function createCheckHandler(parts: CheckHandlerParts): (requestBytes: Uint8Array, caller?: { untrusted?: string }) => Uint8Array | Promise<Uint8Array> {
  const { decide, audit, admission, headerPrefix } = parts;
  const meter = parts.meter ?? NO_METER;

  // A shadow-mode denial is let through with its own (smaller) upstream changes.
  const encode = (decision: Decision, attempt?: CallAttempt): Uint8Array =>
    decision.allow
      ? encodeAllow(decision)
      : decision.shadow !== undefined
        ? encodeAllow(decision.shadow)
        : toBinary(CheckResponseSchema, toCheckResponse(decision, headerPrefix, isGrpcCall(attempt?.headers['content-type'])));
  const answer = (attempt: CallAttempt | undefined, decision: Decision, started: number): Uint8Array | Promise<Uint8Array> => {
    const latencyUs = Math.round((performance.now() - started) * 1000);
    const recorded = audit.record(attempt, decision, latencyUs);
    if (recorded instanceof Promise) {
      return recorded.then((d) => {
        admission.release();
        meter.decided(d, latencyUs);
        return encode(d, attempt);
      });
    }
    admission.release();
    meter.decided(recorded, latencyUs);
    return encode(recorded, attempt);
  };
  // The answers to a refused call are constant: encoded once, so shedding costs next to nothing.
  const refusals = new Map<ReasonCode, Uint8Array>();
  const refusal = (code: ReasonCode): Uint8Array => {
    let bytes = refusals.get(code);
    if (bytes === undefined) {
      bytes = encode(internalDeny('', code, ''));
      refusals.set(code, bytes);
    }
    return bytes;
  };
  const failed = (attempt: CallAttempt | undefined, err: unknown): Deny => {
    const malformed = attempt === undefined;
    return internalDeny(parts.newDecisionId(), malformed ? 'ERR_REQUEST_MALFORMED' : 'ERR_INTERNAL', describe(err));
  };

  return (requestBytes, caller = {}) => {
    const refused = admission.admit();
    if (refused !== undefined) {
      meter.refused(refused);
      return refusal(refused);
    }
    const started = performance.now();
    let attempt: CallAttempt | undefined;
    let decision: Decision;
    try {
      const converted = toCallAttempt(readCheckRequest(requestBytes));
      attempt = converted.attempt;
      if (caller.untrusted !== undefined) {
        decision = internalDeny(parts.newDecisionId(), 'ERR_CALLER_UNTRUSTED', caller.untrusted);
      } else if (converted.ok) {
        const decided = decide(converted.attempt);
        if (decided instanceof Promise) {
          const asked = converted.attempt;
          return decided.then(
            (d) => answer(asked, d, started),
            (err: unknown) => answer(asked, failed(asked, err), started),
          );
        }
        decision = decided;
      } else {
        decision = internalDeny(parts.newDecisionId(), converted.code, converted.internal);
      }
    } catch (err) {
      decision = failed(attempt, err);
    }
    return answer(attempt, decision, started);
  };
}

function internalDeny(decisionId: string, code: ReasonCode, internal: string): Deny {
  return { allow: false, decisionId, code, status: REASONS[code].status, detail: REASONS[code].title, violations: [], internal };
}

/** Error name and message only: never the error object whole (it may hold request data). */
function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 300) : 'non-error thrown';
}
