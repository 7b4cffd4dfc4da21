import type { DecisionLog } from '../decision-log/create-decision-log.js';
import type { KeySourceStatus } from '../identity/key-source-status.js';

/** What readiness is judged from: the running Callguard's own state, and whether serve is stopping. */
export interface ReadinessSources {
  keySources(): readonly KeySourceStatus[];
  readonly log: Pick<DecisionLog, 'healthy'>;
  /** True once SIGTERM/SIGINT began the drain. */
  stopping(): boolean;
}

/** One reason not to send calls here yet; names config entries, never internal detail (that is in the ops log). */
export interface NotReady {
  readonly check: 'shutdown' | 'keys' | 'decisionLog';
  /** The identity source, for `keys`. */
  readonly source?: string;
  readonly problem: string;
}

export interface Readiness {
  readonly ready: boolean;
  readonly notReady: readonly NotReady[];
}

/**
 * Ready for calls: not stopping, every remote key source fetched at least once, and the decision
 * log writing. A source that fetched once and fails since does not make the process unready: its
 * keys keep serving until `maxStaleSeconds`, and an IdP outage would otherwise take every replica
 * out of the load balancer at once, mTLS and API-key callers with it.
 */
export function judgeReadiness(sources: ReadinessSources): Readiness {
  const notReady: NotReady[] = [];
  if (sources.stopping()) notReady.push({ check: 'shutdown', problem: 'stopping: in-flight calls are draining' });
  for (const key of sources.keySources()) {
    if (!key.loaded) notReady.push({ check: 'keys', source: key.name, problem: 'signing keys not fetched yet' });
  }
  if (!sources.log.healthy()) notReady.push({ check: 'decisionLog', problem: 'the decision log is failing or stalled: calls are refused' });
  return { ready: notReady.length === 0, notReady };
}
