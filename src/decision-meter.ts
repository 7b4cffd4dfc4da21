import type { Decision } from './decision.js';
import type { ReasonCode } from './errors.js';

/**
 * Counts answered calls for the operator (metrics), on the hot path: each method is called once a
 * call, synchronously, and must cost next to nothing and never throw.
 */
export interface DecisionMeter {
  /** A call answered with `decision` (after the audit gate), which took `latencyUs` to decide. */
  decided(decision: Decision, latencyUs: number): void;
  /** A call refused by admission control (overload, decision log unavailable) before anything was decided. */
  refused(code: ReasonCode): void;
}

/** Counts nothing: `callguard check`, tests, and `admin.enabled: false`. */
export const NO_METER: DecisionMeter = Object.freeze({ decided() {}, refused() {} });
