import type { CallAttempt } from '../call-attempt.js';
import type { Decision, PayloadSummary } from '../decision.js';
import { REDACTED, type RequestFacts, safeHost, safeMediaType, safePointer, safeToken } from './request-facts.js';

const MAX_VIOLATIONS = 20;

/**
 * One line of the decision log. Built from the attempt and the decision, field by field: never a
 * foreign object whole, never a header value, token, query string or raw payload value.
 */
export interface DecisionRecord {
  readonly decisionId: string;
  readonly requestId: string;
  /** The config (and schemas) that decided: `policyDigest`, also on the log's start and reload lines; null when nothing was decided by it. */
  readonly config: string | null;
  readonly function: string | null;
  /** `would-deny`: a shadow-mode function's call that enforcing would have denied; it went through. */
  readonly outcome: 'allow' | 'deny' | 'would-deny';
  /** `shadow` on every line decided in shadow mode (`functions[].mode`); absent when enforced. */
  readonly mode?: 'shadow';
  readonly status: number;
  readonly code: string | null;
  readonly reasons: readonly string[];
  readonly violations?: readonly { pointer: string; keyword: string }[];
  /** Violations beyond the first 20, counted, not listed. */
  readonly violationsOmitted?: number;
  readonly principal: {
    /** The presented credential's kind (`jwt`, `apiKey`, `saml`), else `mtls`. */
    readonly kind: string;
    readonly issuer?: string;
    readonly subject?: string;
    readonly groups?: readonly string[];
    readonly jti?: string;
    readonly tokenHash?: string;
    /** An API key's record id: never the key or its hash. */
    readonly keyId?: string;
    /** A SAML assertion's ID. */
    readonly assertionId?: string;
    readonly spiffeId?: string;
  } | null;
  /** Method, matched template, loggable parameters and host: never the raw path, query or a malformed host. */
  readonly request: RequestFacts;
  readonly tls: { readonly tls: boolean; readonly sni?: string; readonly peer?: string };
  readonly source: string;
  readonly payload?: PayloadSummary;
  readonly latencyUs: number;
  /** Operator-only detail of an internal or verification failure. */
  readonly internal?: string;
}

/** How a request is described in the log (see createRequestFacts). */
export type DescribeRequest = (functionName: string | undefined, method: string, path: string, host: string) => RequestFacts;

export function toDecisionRecord(attempt: CallAttempt | undefined, decision: Decision, latencyUs: number, describeRequest: DescribeRequest): DecisionRecord {
  // Built imperatively (no conditional spreads): this runs on every call and feeds the GC.
  const credential = decision.caller?.credential;
  const peer = decision.caller?.peer;
  let principal: Mutable<NonNullable<DecisionRecord['principal']>> | null = null;
  if (credential || peer) {
    principal = { kind: credential?.kind ?? 'mtls' };
    if (credential) {
      principal.issuer = credential.issuer;
      principal.subject = credential.subject;
      principal.groups = credential.groups;
      if (credential.kind === 'jwt') {
        if (credential.jti !== undefined) principal.jti = credential.jti;
        principal.tokenHash = credential.tokenHash;
      } else if (credential.kind === 'apiKey') principal.keyId = credential.keyId;
      else principal.assertionId = credential.assertionId;
    }
    if (peer) principal.spiffeId = peer.spiffeId;
  }
  const transport = attempt?.transport;
  const tls: Mutable<DecisionRecord['tls']> = { tls: transport?.tls ?? false };
  // SNI is the caller's choice too: recorded only when it is a host name.
  if (transport?.sni) tls.sni = safeHost(transport.sni).host ?? REDACTED;
  if (transport?.peer) tls.peer = transport.peer.principal;

  const record: Mutable<DecisionRecord> = {
    decisionId: decision.decisionId,
    config: decision.policy ?? null,
    requestId: attempt === undefined || attempt.requestId === '' ? '' : safeToken(attempt.requestId),
    function: decision.functionName ?? null,
    outcome: decision.allow ? 'allow' : decision.shadow === undefined ? 'deny' : 'would-deny',
    status: decision.status,
    code: decision.allow ? null : decision.code,
    reasons: decision.allow ? [] : reasonsOf(decision),
    principal,
    request: describeRequest(decision.functionName, attempt?.method ?? '', attempt?.path ?? '', attempt?.host ?? ''),
    tls,
    source: attempt?.sourceAddress ?? '',
    latencyUs,
  };
  if (decision.shadow !== undefined) record.mode = 'shadow';
  if (!decision.allow) {
    // Pointers name the caller's own keys: plain segments only, and at most MAX_VIOLATIONS of them (a line stays small).
    const pointed = decision.violations.filter((v) => v.pointer !== undefined);
    const violations = pointed.slice(0, MAX_VIOLATIONS).map((v) => ({ pointer: safePointer(v.pointer ?? ''), keyword: v.keyword ?? '' }));
    if (violations.length > 0) record.violations = violations;
    if (pointed.length > MAX_VIOLATIONS) record.violationsOmitted = pointed.length - MAX_VIOLATIONS;
    if (decision.internal !== undefined) record.internal = decision.internal;
  }
  const payload = decision.payload;
  if (payload) {
    const contentType = payload.contentType === undefined ? undefined : safeMediaType(payload.contentType);
    record.payload = contentType === payload.contentType ? payload : { ...payload, contentType: contentType as string };
  }
  return record;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function reasonsOf(decision: Extract<Decision, { allow: false }>): string[] {
  return [...new Set([decision.code, ...decision.violations.map((v) => v.code)])];
}
