import type { CallAttempt } from '../call-attempt.js';
import type { Decision, PayloadSummary } from '../decision.js';

/**
 * One line of the decision log. Built from the attempt and the decision, field by field: never a
 * foreign object whole, never a header value, token, query string or raw payload value.
 */
export interface DecisionRecord {
  readonly decisionId: string;
  readonly requestId: string;
  readonly function: string | null;
  readonly outcome: 'allow' | 'deny';
  readonly status: number;
  readonly code: string | null;
  readonly reasons: readonly string[];
  readonly violations?: readonly { pointer: string; keyword: string }[];
  readonly principal: {
    readonly issuer?: string;
    readonly subject?: string;
    readonly groups?: readonly string[];
    readonly jti?: string;
    readonly tokenHash?: string;
    readonly spiffeId?: string;
  } | null;
  readonly request: { readonly method: string; readonly path: string; readonly host: string };
  readonly tls: { readonly tls: boolean; readonly sni?: string; readonly peer?: string };
  readonly source: string;
  readonly payload?: PayloadSummary;
  readonly latencyUs: number;
  /** Operator-only detail of an internal or verification failure. */
  readonly internal?: string;
}

export function toDecisionRecord(attempt: CallAttempt | undefined, decision: Decision, latencyUs: number): DecisionRecord {
  const jwt = decision.principal?.jwt;
  const peer = decision.principal?.peer;
  const principal =
    jwt || peer
      ? {
          ...(jwt ? { issuer: jwt.issuer, subject: jwt.subject, groups: jwt.groups, tokenHash: jwt.tokenHash } : {}),
          ...(jwt?.jti !== undefined ? { jti: jwt.jti } : {}),
          ...(peer ? { spiffeId: peer.spiffeId } : {}),
        }
      : null;
  const violations = decision.allow
    ? []
    : decision.violations.filter((v) => v.pointer !== undefined).map((v) => ({ pointer: v.pointer ?? '', keyword: v.keyword ?? '' }));
  const transport = attempt?.transport;
  return {
    decisionId: decision.decisionId,
    requestId: attempt?.requestId ?? '',
    function: decision.functionName ?? null,
    outcome: decision.allow ? 'allow' : 'deny',
    status: decision.status,
    code: decision.allow ? null : decision.code,
    reasons: decision.allow ? [] : [...new Set([decision.code, ...decision.violations.map((v) => v.code)])],
    ...(violations.length > 0 ? { violations } : {}),
    principal,
    request: {
      method: attempt?.method ?? '',
      path: stripQuery(attempt?.path ?? ''),
      host: attempt?.host ?? '',
    },
    tls: {
      tls: transport?.tls ?? false,
      ...(transport?.sni ? { sni: transport.sni } : {}),
      ...(transport?.peer ? { peer: transport.peer.principal } : {}),
    },
    source: attempt?.sourceAddress ?? '',
    ...(decision.payload ? { payload: decision.payload } : {}),
    latencyUs,
    ...(!decision.allow && decision.internal !== undefined ? { internal: decision.internal } : {}),
  };
}

/** Query strings carry secrets often enough (`?api_key=`) that they are never logged. */
function stripQuery(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? path : `${path.slice(0, q)}?…`;
}
