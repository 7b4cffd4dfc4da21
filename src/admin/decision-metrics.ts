import { Counter, Histogram, type Registry } from 'prom-client';
import type { Decision } from '../decision.js';
import type { DecisionMeter } from '../decision-meter.js';

/** The `function` label of a call no configured function was found for (no match, malformed, refused before deciding). */
export const NO_FUNCTION = '(none)';

/**
 * Decision latency buckets, in seconds: a cached-token decision takes tens of microseconds, one that
 * fetches keys can take up to Envoy's ext_authz timeout (200 ms by default).
 */
export const LATENCY_BUCKETS: readonly number[] = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2];

type Outcome = 'allow' | 'deny' | 'would-deny';
interface Tally {
  readonly labels: { readonly function: string; readonly outcome: Outcome; readonly code: string };
  count: number;
}

/**
 * `callguard_decisions_total{function, outcome, code}` and `callguard_decision_duration_seconds`,
 * recorded on the hot path. Label values stay bounded: `function` is a configured name (decide sets a
 * decision's `functionName` only from the function registry: a name from a later reload gets its own series)
 * or {@link NO_FUNCTION}, `outcome` one of three, `code` a reason code (empty for an allow). `functionNames`
 * (the config at start) get their allow series at 0 from the start, and so do functions a reload adds
 * (`declare`).
 *
 * The counter is kept as plain numbers, one per label combination, found through nested maps (three
 * `Map.get`s and an increment, nothing allocated), and handed to prom-client when scraped: a bound
 * prom-client child (`counter.labels(...)`) still validates and hashes its label values on every
 * `inc()`, about ten times the cost. The exposition is the same.
 */
export interface DecisionMetrics extends DecisionMeter {
  /** Gives each of these functions its allow series at 0 (a reload's new functions; existing series stay). */
  declare(functionNames: readonly string[]): void;
}

export function createDecisionMetrics(registry: Registry, functionNames: readonly string[]): DecisionMetrics {
  const tallies: Tally[] = [];
  const byOutcome = new Map<Outcome, Map<string, Map<string, Tally>>>();
  const tally = (outcome: Outcome, fn: string | undefined, code: string): Tally => {
    const name = fn ?? NO_FUNCTION;
    let byFunction = byOutcome.get(outcome);
    if (byFunction === undefined) {
      byFunction = new Map();
      byOutcome.set(outcome, byFunction);
    }
    let byCode = byFunction.get(name);
    if (byCode === undefined) {
      byCode = new Map();
      byFunction.set(name, byCode);
    }
    let found = byCode.get(code);
    if (found === undefined) {
      found = { labels: { function: name, outcome, code }, count: 0 };
      byCode.set(code, found);
      tallies.push(found);
    }
    return found;
  };
  // Every function's allow series exists from the start: a rate over a series that appears with its first call misses that call.
  const declare = (names: readonly string[]): void => {
    for (const name of names) tally('allow', name, '');
  };
  declare(functionNames);

  new Counter({
    name: 'callguard_decisions_total',
    help: 'Calls answered, by function (configured name, or "(none)"), outcome (allow, deny, would-deny in shadow mode) and reason code (empty for an allow). Refusals before any decision (ERR_OVERLOADED, ERR_DECISION_LOG_UNAVAILABLE) are counted with function "(none)".',
    labelNames: ['function', 'outcome', 'code'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { labels, count } of tallies) this.inc(labels, count);
    },
  });
  const latency = new Histogram({
    name: 'callguard_decision_duration_seconds',
    help: 'Time from receiving a Check to its decision, before waiting for the decision-log line; refusals before any decision are not observed.',
    buckets: [...LATENCY_BUCKETS],
    registers: [registry],
  });

  return {
    declare,
    decided(decision: Decision, latencyUs: number) {
      // As the decision log's `outcome` (decision-record.ts).
      if (decision.allow) tally('allow', decision.functionName, '').count++;
      else tally(decision.shadow === undefined ? 'deny' : 'would-deny', decision.functionName, decision.code).count++;
      latency.observe(latencyUs / 1e6);
    },
    refused(code) {
      tally('deny', undefined, code).count++;
    },
  };
}
