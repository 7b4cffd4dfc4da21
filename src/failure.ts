import type { ReasonCode } from './errors.js';

/**
 * The one failure shape of every stage (transport, identity, payload): a stable code, a public
 * detail (never request data) and, for the decision log only, an internal detail.
 */
export interface Failure {
  readonly ok: false;
  readonly code: ReasonCode;
  readonly detail: string;
  readonly internal?: string;
}

/** A stage's outcome: its value, or a {@link Failure}. */
export type Result<T> = { readonly ok: true; readonly value: T } | Failure;

/** Builds a {@link Failure}; `internal` is kept only when given. */
export function fail(code: ReasonCode, detail: string, internal?: string): Failure {
  return internal === undefined ? { ok: false, code, detail } : { ok: false, code, detail, internal };
}
