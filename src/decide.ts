import type { CallAttempt } from './call-attempt.js';
import type { Config, FunctionConfig } from './config/types.js';
import type { Allow, Decision, Deny, PayloadSummary, Violation } from './decision.js';
import { REASONS, type ReasonCode } from './errors.js';
import { isPermitted } from './functions/authorize.js';
import type { FunctionRegistry } from './functions/function-registry.js';
import { type BearerResult, type BearerVerifier, parseAuthorizationHeader } from './identity/verify-bearer.js';
import type { CompiledInput } from './payload/compile-input.js';
import { inspectPayload } from './payload/inspect-payload.js';
import type { JwtIdentity, PeerIdentity, Principal } from './principal.js';
import type { PeerVerifier } from './transport/verify-peer.js';
import { upstreamHeaders } from './upstream-headers.js';

export interface DecideParts {
  readonly config: Config;
  readonly registry: FunctionRegistry;
  readonly bearer: BearerVerifier;
  readonly peers: PeerVerifier;
  /** Compiled input schemas by function name. */
  readonly inputs: ReadonlyMap<string, CompiledInput>;
  readonly newDecisionId: () => string;
}

/**
 * A decision, synchronously when nothing had to wait (a cached token, an mTLS-only caller), else a
 * promise (a token verified against keys). Callers `await` it either way; the hot path then costs
 * no promise and no microtask.
 */
export type Decide = (attempt: CallAttempt) => Decision | Promise<Decision>;

/** The route's `context_extensions` key that names the function (Envoy ExtAuthzPerRoute). */
export const FUNCTION_EXTENSION = 'function';

/**
 * The use case: TLS → function → mTLS peer → bearer token → permission → payload.
 * Order matters: nothing about a function's payload is revealed to a caller who may not call it.
 * Never throws for bad input; a denial is a value.
 */
export function createDecide(parts: DecideParts): Decide {
  const { config, registry, bearer, peers, inputs } = parts;
  const maxDepth = config.payload.maxDepth;

  return function decide(attempt) {
    const decisionId = parts.newDecisionId();
    const deny = (code: ReasonCode, extra?: DenyExtra): Deny => denial(decisionId, code, extra);

    // 1. Encryption in transit, judged only from what Envoy itself reports about the connection.
    if (!attempt.transport.tls) return deny('ERR_TLS_REQUIRED');

    // 2. Which function. A route that names an unknown function is denied like an unknown path.
    const named = attempt.contextExtensions[FUNCTION_EXTENSION];
    const fn = named !== undefined ? registry.byName(named) : registry.match(attempt.method, attempt.path);
    if (fn === undefined) return deny('ERR_FUNCTION_UNKNOWN', named !== undefined ? { internal: `route names unknown function "${named}"` } : {});
    if (named !== undefined && !registry.accepts(fn, attempt.method, attempt.path)) {
      return deny('ERR_FUNCTION_UNKNOWN', { internal: `route names "${named}" but the method or path does not match it` });
    }
    const functionName = fn.name;

    // 3. mTLS peer. Required peers must be valid; an optional one counts only when it is valid.
    let peer: PeerIdentity | undefined;
    if (attempt.transport.peer !== undefined) {
      const result = peers.verify(attempt.transport.peer);
      if (result.ok) peer = result.identity;
      else if (fn.requireMtls) return deny(result.code, { functionName, internal: result.internal });
    }
    if (fn.requireMtls && peer === undefined) return deny('ERR_MTLS_REQUIRED', { functionName });

    // 4. Bearer token: when presented it must be valid, whatever else the caller has.
    const header = parseAuthorizationHeader(attempt.headers['authorization']);
    if (header === undefined) return conclude(attempt, fn, peer, undefined, decisionId);
    if (!header.ok) return deny(header.code, { functionName, wwwAuthenticate: challenge(header.code) });
    const verified = bearer.verify(header.token);
    if (verified instanceof Promise) return verified.then((result) => conclude(attempt, fn, peer, result, decisionId));
    return conclude(attempt, fn, peer, verified, decisionId);
  };

  /** Steps 4 (outcome of the token) to 6, once the token, if any, is verified. */
  function conclude(attempt: CallAttempt, fn: FunctionConfig, peer: PeerIdentity | undefined, verified: BearerResult | undefined, decisionId: string): Decision {
    const functionName = fn.name;
    const deny = (code: ReasonCode, extra?: DenyExtra): Deny => denial(decisionId, code, extra);
    let jwt: JwtIdentity | undefined;
    if (verified !== undefined) {
      if (!verified.ok) {
        return deny(verified.code, {
          functionName,
          ...(verified.internal !== undefined ? { internal: verified.internal } : {}),
          ...(REASONS[verified.code].status === 401 ? { wwwAuthenticate: challenge(verified.code) } : {}),
        });
      }
      jwt = verified.identity;
    }
    if (jwt === undefined && peer === undefined) {
      return deny('ERR_CREDENTIAL_MISSING', { functionName, wwwAuthenticate: challenge('ERR_CREDENTIAL_MISSING') });
    }
    const principal: Principal = jwt === undefined ? { peer: peer as PeerIdentity } : peer === undefined ? { jwt } : { jwt, peer };

    // 5. Default deny.
    if (!isPermitted(fn, principal)) return deny('ERR_NOT_PERMITTED', { functionName, principal });

    // 6. Payload, inline, against the function's schema.
    const payload = inspectPayload(inputs.get(fn.name), attempt.body, attempt.headers['content-type'], { maxDepth }, attempt.headers['content-encoding']);
    if (!payload.ok) {
      return deny(payload.code, { functionName, principal, detail: payload.detail, violations: payload.violations, payload: payload.summary });
    }
    return allow(decisionId, fn, principal, payload.summary, attempt, config.upstream.headerPrefix);
  }
}

type DenyExtra = Partial<Omit<Deny, 'allow' | 'code' | 'status' | 'decisionId'>>;

function denial(decisionId: string, code: ReasonCode, extra: DenyExtra = {}): Deny {
  return {
    allow: false,
    decisionId,
    code,
    status: REASONS[code].status,
    detail: extra.detail ?? REASONS[code].title,
    violations: extra.violations ?? [],
    ...withoutUndefined(extra),
  };
}

function allow(decisionId: string, fn: FunctionConfig, principal: Principal, payload: PayloadSummary, attempt: CallAttempt, prefix: string): Allow {
  const { setHeaders, removeHeaders } = upstreamHeaders(attempt.headers, principal, fn.name, decisionId, prefix);
  return { allow: true, status: 200, decisionId, functionName: fn.name, principal, payload, setHeaders, removeHeaders };
}

/** RFC 6750 §3: no error code when the request carried no credential; `invalid_token` otherwise. */
function challenge(code: ReasonCode): string {
  if (code === 'ERR_CREDENTIAL_MISSING') return 'Bearer realm="callguard"';
  return `Bearer realm="callguard", error="invalid_token", error_description="${REASONS[code].title}"`;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export type { Violation };
