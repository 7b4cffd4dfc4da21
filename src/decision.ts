import type { ReasonCode } from './errors.js';
import type { Caller } from './principal.js';

/** One reason a call was denied; `pointer` is an RFC 6901 JSON pointer into the payload. */
export interface Violation {
  readonly code: ReasonCode;
  readonly detail: string;
  readonly pointer?: string;
  readonly keyword?: string;
}

interface DecisionBase {
  readonly decisionId: string;
  /** The digest of the config and schemas that decided it (see policyDigest); absent for refusals made before deciding. */
  readonly policy?: string | undefined;
  readonly functionName?: string;
  /** The verified caller, once known (allowed, or denied for permission or payload). */
  readonly caller?: Caller;
  /** Payload facts safe to log (sizes, masked audit fields); never raw values. */
  readonly payload?: PayloadSummary;
}

/** An allowed call, with what it changes on its way upstream ({@link UpstreamChanges}). */
export interface Allow extends DecisionBase, UpstreamChanges {
  readonly allow: true;
  readonly status: 200;
  readonly functionName: string;
  readonly caller: Caller;
  /** The function is in shadow mode: the credential was left on the call (it is logged like any allow). */
  readonly shadow?: true;
}

export interface Deny extends DecisionBase {
  readonly allow: false;
  readonly status: number;
  readonly code: ReasonCode;
  /** Public detail for the caller; no request data. */
  readonly detail: string;
  readonly violations: readonly Violation[];
  /** RFC 6750 §3 challenge for 401s. */
  readonly wwwAuthenticate?: string;
  /** Internal detail for the decision log only (never sent to the caller). */
  readonly internal?: string;
  /**
   * Set when the function is in shadow mode: the denial is logged (`would-deny`) and the call goes upstream
   * all the same, with only these header changes (see `functions[].mode`).
   */
  readonly shadow?: UpstreamChanges;
}

/** What an allowed call changes on its way upstream. */
export interface UpstreamChanges {
  /** Headers to set (overwriting any caller value). */
  readonly setHeaders: Readonly<Record<string, string>>;
  /** Caller headers to remove (credentials, spoofed identity). */
  readonly removeHeaders: readonly string[];
  /** Query parameters to remove (a credential in the URL); usually none. */
  readonly removeQueryParameters: readonly string[];
}

export type Decision = Allow | Deny;

export interface PayloadSummary {
  readonly contentType?: string;
  readonly bytes: number;
  /** Values of the function's `input.logFields`, with `input.sensitive` fields masked. */
  readonly fields?: Readonly<Record<string, unknown>>;
  /** A JSON-RPC / MCP call: its method and tool, as plain names or `[redacted]`. */
  readonly jsonrpc?: { readonly method: string; readonly tool?: string };
}
