import type { CallAttempt } from './call-attempt.js';
import type { Config, FunctionConfig } from './config/types.js';
import type { Allow, Decision, Deny, PayloadSummary, Violation } from './decision.js';
import { REASONS, type ReasonCode } from './errors.js';
import { compilePolicy, type Policy } from './functions/compile-policy.js';
import type { FunctionRegistry } from './functions/function-registry.js';
import type { Authenticator, AuthResult } from './identity/authenticator.js';
import { checkTokenBinding } from './identity/binding/check-token-binding.js';
import { createFindCredential } from './identity/find-credential.js';
import { sourceKinds } from './identity/identity-sources.js';
import { inspectPayload } from './payload/inspect-payload.js';
import type { PayloadInspector } from './payload/payload-inspector.js';
import type { Caller, MtlsPrincipal } from './principal.js';
import { replayKey } from './replay/replay-key.js';
import type { ClaimResult, ReplayStore } from './replay/replay-store.js';
import type { PeerVerifier } from './transport/verify-peer.js';
import { shadowHeaders, upstreamHeaders } from './upstream-headers.js';
import { cleanQuery } from './upstream-query.js';

export interface DecideParts {
  readonly config: Config;
  readonly registry: FunctionRegistry;
  /** One per credential kind a caller may present in a header (JWT, API key, SAML). */
  readonly authenticators: readonly Authenticator[];
  readonly peers: PeerVerifier;
  /** Payload inspectors (compiled `input` blocks) by function name. */
  readonly inputs: ReadonlyMap<string, PayloadInspector>;
  /** Remembers single-use credentials (`functions[].singleUse`). */
  readonly replay: ReplayStore;
  readonly newDecisionId: () => string;
  /** Milliseconds since the epoch; defaults to `Date.now`. */
  readonly now?: () => number;
  /** Named on every decision (`policy`): the config and schemas deciding (see policyDigest). */
  readonly policyDigest?: string;
}

/**
 * A decision, synchronously when nothing had to wait (a cached token, an API key, an mTLS-only
 * caller), else a promise (a token verified against keys). Callers `await` it either way; the hot
 * path then costs no promise and no microtask.
 */
export type Decide = (attempt: CallAttempt) => Decision | Promise<Decision>;

/** The route's `context_extensions` key that names the function (Envoy ExtAuthzPerRoute). */
export const FUNCTION_EXTENSION = 'function';

/**
 * The use case: TLS → function → mTLS peer → presented credential → permission → payload.
 * Order matters: nothing about a function's payload is revealed to a caller who may not call it.
 * Never throws for bad input; a denial is a value.
 */
export function createDecide(parts: DecideParts): Decide {
  const { config, registry, peers, inputs, replay } = parts;
  const now = parts.now ?? Date.now;
  const skewMs = config.identity.clockSkewSeconds * 1000;
  const maxDepth = config.payload.maxDepth;
  const findCredential = createFindCredential(parts.authenticators);
  // Removed from every allowed call: credentials (callguard's own copy of them never goes upstream) and the
  // configured headers (method overrides by default).
  const credentialHeaders = ['authorization', ...parts.authenticators.flatMap((a) => [...a.headers, ...(a.strip ?? [])]), ...config.upstream.removeHeaders];
  const queryNames = new Set(config.upstream.removeQueryParameters);
  const kinds = sourceKinds(config.identity);
  const dpopAlgs = config.identity.dpop.algorithms.join(' ');
  const policies = new Map<string, Policy>(config.functions.map((fn) => [fn.name, compilePolicy(fn, kinds)]));
  const shadowed = new Set(config.functions.filter((fn) => fn.mode === 'shadow').map((fn) => fn.name));
  const prefix = config.upstream.headerPrefix;
  const { policyDigest } = parts;

  if (shadowed.size === 0) return enforce;
  return function decide(attempt) {
    const decision = enforce(attempt);
    return decision instanceof Promise ? decision.then((d) => shadow(d, attempt)) : shadow(decision, attempt);
  };

  /**
   * Shadow mode: a denial of a shadow function's call is let through, marked, with the upstream changes of
   * {@link shadowHeaders}. Not a denial made before the function was known (TLS, unknown function).
   */
  function shadow(decision: Decision, attempt: CallAttempt): Decision {
    if (decision.allow || decision.functionName === undefined || !shadowed.has(decision.functionName)) return decision;
    if (decision.code === 'ERR_TLS_REQUIRED' || decision.code === 'ERR_FUNCTION_UNKNOWN') return decision;
    return { ...decision, shadow: { ...shadowHeaders(attempt.headers, decision.decisionId, prefix), removeQueryParameters: [] } };
  }

  function enforce(attempt: CallAttempt): Decision | Promise<Decision> {
    const decisionId = parts.newDecisionId();
    const deny = (code: ReasonCode, extra?: DenyExtra): Deny => denial(decisionId, code, extra, policyDigest);

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
    const policy = policies.get(functionName) as Policy;

    // 3. mTLS peer. Required peers must be valid; an optional one counts only when it is valid.
    let peer: MtlsPrincipal | undefined;
    if (attempt.transport.peer !== undefined) {
      const result = peers.verify(attempt.transport.peer);
      if (result.ok) peer = result.value;
      else if (fn.requireMtls) return deny(result.code, failureExtra(functionName, result));
    }
    if (fn.requireMtls && peer === undefined) return deny('ERR_MTLS_REQUIRED', { functionName });

    // 4. The credential in a header: when presented it must be valid, whatever else the caller has. One
    //    of a kind no rule of the function names cannot authorize the call: refused before any lookup,
    //    unless the function has SPIFFE rules and a verified peer that one of them may admit (then the
    //    credential is checked all the same: never ignored).
    const presented = findCredential(attempt.headers);
    if (presented === undefined) return conclude(attempt, fn, policy, peer, undefined, decisionId);
    if (!presented.ok) return deny(presented.code, failureExtra(functionName, presented));
    const { authenticator } = presented;
    if (!policy.accepts(authenticator.kind) && !(peer !== undefined && policy.accepts('mtls'))) {
      return deny('ERR_CREDENTIAL_NOT_ACCEPTED', { functionName, internal: `no rule of "${functionName}" names a ${authenticator.kind} identity source` });
    }
    const verified = authenticator.authenticate(presented.credential, attempt);
    if (verified instanceof Promise) return verified.then((result) => conclude(attempt, fn, policy, peer, result, decisionId));
    return conclude(attempt, fn, policy, peer, verified, decisionId);
  }

  /** Steps 4 (outcome of the credential) to 6, once the credential, if any, is verified. */
  function conclude(
    attempt: CallAttempt,
    fn: FunctionConfig,
    policy: Policy,
    peer: MtlsPrincipal | undefined,
    verified: AuthResult | undefined,
    decisionId: string,
  ): Decision | Promise<Decision> {
    const functionName = fn.name;
    const deny = (code: ReasonCode, extra?: DenyExtra): Deny => denial(decisionId, code, extra, policyDigest);
    if (verified !== undefined && !verified.ok) {
      // RFC 9449 §7.1: a refused DPoP proof is answered with the DPoP scheme and the algorithms it may use.
      const dpop = verified.code === 'ERR_DPOP_PROOF' ? { wwwAuthenticate: `DPoP algs="${dpopAlgs}", error="invalid_dpop_proof"` } : {};
      return deny(verified.code, { ...failureExtra(functionName, verified), ...dpop });
    }
    const credential = verified?.value;
    if (credential === undefined && peer === undefined) {
      return deny('ERR_CREDENTIAL_MISSING', { functionName });
    }
    // A token bound to its holder (cnf, RFC 7800) is held to it; a function may require such tokens.
    if (credential !== undefined) {
      const unbound = checkTokenBinding(credential, attempt.transport.peer, fn.senderConstrained);
      if (unbound !== undefined) return deny(unbound.code, failureExtra(functionName, unbound));
    }
    const caller: Caller = credential === undefined ? { peer: peer as MtlsPrincipal } : peer === undefined ? { credential } : { credential, peer };

    // 5. Default deny.
    if (!policy.permits(caller)) return deny('ERR_NOT_PERMITTED', { functionName, caller, internal: policy.explain(caller) });

    // 6. Payload, inline, against the function's schema.
    //    The HTTP method and caller are for endpoint kinds (MCP: DELETE and GET, per-tool rules).
    const payload = inspectPayload(inputs.get(fn.name), attempt.body, attempt.headers['content-type'], { maxDepth }, attempt.headers['content-encoding'], {
      method: attempt.method,
      caller,
    });
    if (!payload.ok) {
      const { code, detail, violations, summary, internal } = payload;
      return deny(code, { functionName, caller, detail, violations, payload: summary, ...(internal === undefined ? {} : { internal }) });
    }
    // 7. Nothing replayable upstream: a credential in the query string is removed, or refused if Envoy could not remove it.
    const query = cleanQuery(attempt.path, queryNames);
    if (!query.ok) return deny('ERR_QUERY_ENCODED_NAME', { functionName, caller, internal: `percent-encoded query parameter "${query.name}"` });
    const allowed = (): Decision =>
      fn.mode === 'shadow'
        ? // Shadow mode: the function still gets what it got before callguard (its own credential check keeps working).
          { ...allow(decisionId, fn, caller, payload.summary, attempt, prefix, [], [], policyDigest), shadow: true }
        : allow(decisionId, fn, caller, payload.summary, attempt, prefix, credentialHeaders, query.remove, policyDigest);

    // 8. Single use, claimed last: a call denied for any other reason does not use the credential up.
    if (!fn.singleUse || credential === undefined) return allowed();
    const key = replayKey(credential);
    if (key === undefined)
      return deny('ERR_CREDENTIAL_REUSABLE', { functionName, caller, internal: `a ${credential.kind} credential without a single-use id` });
    // Remembered until the credential could no longer be accepted anyway: its expiry plus the clock skew.
    const claimed = replay.claim(key, Math.max(1, credential.expiresAt * 1000 + skewMs - now()));
    const judge = (result: ClaimResult): Decision =>
      result === 'first' ? allowed() : deny(result === 'replayed' ? 'ERR_TOKEN_REPLAYED' : 'ERR_REPLAY_UNAVAILABLE', { functionName, caller });
    return claimed instanceof Promise ? claimed.then(judge) : judge(claimed);
  }
}

/** A stage's failure as denial details: the public detail for the caller, the internal one for the log. */
function failureExtra(functionName: string, failure: { readonly detail: string; readonly internal?: string }): DenyExtra {
  return failure.internal === undefined ? { functionName, detail: failure.detail } : { functionName, detail: failure.detail, internal: failure.internal };
}

type DenyExtra = Partial<Omit<Deny, 'allow' | 'code' | 'status' | 'decisionId'>>;

/** The one place a Deny is built: status from the code table, a challenge on every 401. */
function denial(decisionId: string, code: ReasonCode, extra: DenyExtra = {}, policy?: string): Deny {
  const status = REASONS[code].status;
  return {
    allow: false,
    decisionId,
    policy,
    code,
    status,
    detail: extra.detail ?? REASONS[code].title,
    violations: extra.violations ?? [],
    ...(status === 401 ? { wwwAuthenticate: challenge(code) } : {}),
    ...withoutUndefined(extra),
  };
}

function allow(
  decisionId: string,
  fn: FunctionConfig,
  caller: Caller,
  payload: PayloadSummary,
  attempt: CallAttempt,
  prefix: string,
  credentialHeaders: readonly string[],
  removeQueryParameters: readonly string[],
  policy: string | undefined,
): Allow {
  const { setHeaders, removeHeaders } = upstreamHeaders(attempt.headers, caller, fn.name, decisionId, prefix, credentialHeaders);
  return { allow: true, status: 200, decisionId, policy, functionName: fn.name, caller, payload, setHeaders, removeHeaders, removeQueryParameters };
}

/**
 * RFC 9110 §11.6.1: a 401 names the scheme to retry with. RFC 6750 §3 for Bearer: no error code when
 * the request carried no credential, `invalid_token` otherwise; the ApiKey and SAML schemes (not
 * registered) take the same form.
 */
function challenge(code: ReasonCode): string {
  if (code === 'ERR_CREDENTIAL_MISSING') return 'Bearer realm="callguard"';
  const scheme = code.startsWith('ERR_API_KEY_') ? 'ApiKey' : code.startsWith('ERR_SAML_') ? 'SAML' : 'Bearer';
  return `${scheme} realm="callguard", error="invalid_token", error_description="${REASONS[code].title}"`;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export type { Violation };
