import type { DecisionLog } from './decision-log/create-decision-log.js';
import type { ReasonCode } from './errors.js';

export interface Admission {
  /** Admits a call (then `release` it once answered), or says why it is refused, at once. */
  admit(): ReasonCode | undefined;
  release(): void;
  readonly inFlight: number;
}

export interface AdmissionOptions {
  /** Calls admitted and not yet answered (deciding, fetching keys, waiting for their line). */
  readonly maxInFlight: number;
  readonly log: DecisionLog;
  /** At most once a second while calls are refused: how many since the last report. */
  readonly onRefused?: (event: { readonly code: ReasonCode; readonly count: number; readonly inFlight: number }) => void;
  readonly now?: () => number;
}

/**
 * Admission control: bounded work in flight instead of a queue. A call beyond `maxInFlight`, or
 * while the decision log cannot record (failed, stalled, or `maxPendingBytes` waiting), is refused
 * before anything is decided: cheap, so an overload is shed at the rate it arrives and never
 * becomes a backlog that outlives it. Each refusal is counted in the decision log's summary line.
 */
export function createAdmission(options: AdmissionOptions): Admission {
  const { maxInFlight, log } = options;
  const now = options.now ?? Date.now;
  let inFlight = 0;
  let unreported = 0;
  let lastReport = 0;
  const refuse = (code: ReasonCode): ReasonCode => {
    log.noteRefused(code);
    unreported++;
    const t = now();
    if (t - lastReport >= 1000) {
      lastReport = t;
      options.onRefused?.({ code, count: unreported, inFlight });
      unreported = 0;
    }
    return code;
  };
  return {
    admit() {
      if (inFlight >= maxInFlight) return refuse('ERR_OVERLOADED');
      if (!log.accepting()) return refuse('ERR_DECISION_LOG_UNAVAILABLE');
      inFlight++;
      return undefined;
    },
    release() {
      inFlight--;
    },
    get inFlight() {
      return inFlight;
    },
  };
}
