import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Callguard } from '../build-callguard.js';
import type { Config } from '../config/types.js';
import type { DecisionMeter } from '../decision-meter.js';
import { ConfigError } from '../errors.js';
import { type RunningAdmin, startAdminServer } from './admin-server.js';
import { createDecisionMetrics } from './decision-metrics.js';
import { judgeReadiness } from './readiness.js';
import { createReloadMetrics, type ReloadOutcome } from './reload-metrics.js';
import { registerStateMetrics } from './state-metrics.js';

export interface Admin {
  /** Counts answered calls: give it to `buildCallguard`, so the Check handler records into this registry. */
  readonly meter: DecisionMeter;
  /** Counts a configuration reload (serve's SIGHUP); an applied one names its functions (new ones get their series at 0). */
  reloaded(outcome: ReloadOutcome, functionNames?: readonly string[]): void;
  /** Serves `admin.listen`, judging readiness and reading state from `callguard` (once). */
  start(callguard: Callguard, options: AdminStartOptions): Promise<RunningAdmin>;
}

export interface AdminStartOptions {
  /** True once serve began stopping: `/readyz` answers 503 while calls drain. */
  readonly stopping: () => boolean;
  /** A scrape that failed, for the operational log. */
  readonly onError?: (err: unknown) => void;
}

/**
 * The admin listener of `callguard serve`, in two steps because the meter must exist before the
 * Check handler is built and the state metrics need the built Callguard. One registry of its own
 * (not prom-client's global one): callguard's metrics, and Node's process metrics (CPU, memory,
 * event-loop delay, GC) under their usual unprefixed names.
 */
export function createAdmin(config: Config): Admin {
  const registry = new Registry();
  const meter = createDecisionMetrics(
    registry,
    config.functions.map((fn) => fn.name),
  );
  const countReload = createReloadMetrics(registry);
  return {
    meter,
    reloaded(outcome, functionNames = []) {
      meter.declare(functionNames);
      countReload(outcome);
    },
    async start(callguard, options) {
      registerStateMetrics(registry, callguard);
      collectDefaultMetrics({ register: registry });
      try {
        return await startAdminServer(config.admin.listen, {
          readiness: () => judgeReadiness({ keySources: () => callguard.keySources(), log: callguard.log, stopping: options.stopping }),
          metrics: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
          ...(options.onError !== undefined ? { onError: options.onError } : {}),
        });
      } catch (err) {
        const why = (err as NodeJS.ErrnoException).code ?? String(err);
        throw new ConfigError([{ file: config.file, path: '/admin/listen', message: `cannot listen on "${config.admin.listen}": ${why}` }]);
      }
    },
  };
}
