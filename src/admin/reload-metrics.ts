import { Counter, type Registry } from 'prom-client';

export const RELOAD_OUTCOMES = ['ok', 'refused'] as const;
export type ReloadOutcome = (typeof RELOAD_OUTCOMES)[number];

/** `callguard_reloads_total{outcome}`, both series at 0 from the start; returns what counts one reload. */
export function createReloadMetrics(registry: Registry): (outcome: ReloadOutcome) => void {
  const reloads = new Counter({
    name: 'callguard_reloads_total',
    help: 'Configuration reloads (SIGHUP) by outcome: ok (the new config decides from now on, changed or not), refused (the running config keeps serving).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  for (const outcome of RELOAD_OUTCOMES) reloads.inc({ outcome }, 0);
  return (outcome) => reloads.inc({ outcome });
}
