import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createReloadMetrics, type ReloadOutcome } from '../../../src/admin/reload-metrics.js';

describe('callguard_reloads_total', () => {
  it.each([
    { name: 'none yet: both outcomes at 0', reloads: [] as ReloadOutcome[], ok: 0, refused: 0 },
    { name: 'two ok, one refused', reloads: ['ok', 'refused', 'ok'] as ReloadOutcome[], ok: 2, refused: 1 },
  ])('$name', async ({ reloads, ok, refused }) => {
    const registry = new Registry();
    const reloaded = createReloadMetrics(registry);
    for (const outcome of reloads) reloaded(outcome);
    const text = await registry.getSingleMetricAsString('callguard_reloads_total');
    expect(text).toContain(`callguard_reloads_total{outcome="ok"} ${ok}\n`);
    expect(text).toContain(`callguard_reloads_total{outcome="refused"} ${refused}`);
  });
});
