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
  readonly functionName?: string;
  /** The verified caller, once known (allowed, or denied for permission or payload). */
  readonly caller?: Caller;
  /** Payload facts safe to log (sizes, masked audit fields); never raw values. */
  readonly payload?: PayloadSummary;
}

export interface Allow extends DecisionBase {
  readonly allow: true;
  readonly status: 200;
  readonly functionName: string;
  readonly caller: Caller;
  /** Headers to set upstream (overwriting any caller value). */
  readonly setHeaders: Readonly<Record<string, string>>;
  /** Caller headers to remove before the call goes upstream (credentials, spoofed identity). */
  readonly removeHeaders: readonly string[];
  /** Query parameters to remove before the call goes upstream (a credential in the URL); usually none. */
  readonly removeQueryParameters: readonly string[];
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
}

export type Decision = Allow | Deny;

export interface PayloadSummary {
  readonly contentType?: string;
  readonly bytes: number;
  /** Values of the function's `input.logFields`, with `input.sensitive` fields masked. */
  readonly fields?: Readonly<Record<string, unknown>>;
}
