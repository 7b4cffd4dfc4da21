import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createDecisionMetrics, LATENCY_BUCKETS, NO_FUNCTION } from '../../../src/admin/decision-metrics.js';
import type { Decision } from '../../../src/decision.js';

const allow = (functionName: string): Decision =>
  ({
    allow: true,
    status: 200,
    decisionId: 'd',
    functionName,
    caller: {},
    setHeaders: {},
    removeHeaders: [],
    removeQueryParameters: [],
  }) as unknown as Decision;
const deny = (code: string, functionName?: string, shadow = false): Decision =>
  ({
    allow: false,
    status: 403,
    decisionId: 'd',
    code,
    detail: '',
    violations: [],
    ...(functionName !== undefined ? { functionName } : {}),
    ...(shadow ? { shadow: { setHeaders: {}, removeHeaders: [], removeQueryParameters: [] } } : {}),
  }) as unknown as Decision;

/** `name{labels} value` lines of one metric, as a map (the exposition's own spelling of labels). */
async function series(registry: Registry, name: string): Promise<Map<string, number>> {
  const text = await registry.getSingleMetricAsString(name);
  return new Map(
    text
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1))]),
  );
}

describe('callguard_decisions_total', () => {
  it('starts with an allow series at 0 for every configured function, and nothing else', async () => {
    const registry = new Registry();
    createDecisionMetrics(registry, ['orders.create', 'orders.get']);
    expect(await series(registry, 'callguard_decisions_total')).toEqual(
      new Map([
        ['callguard_decisions_total{function="orders.create",outcome="allow",code=""}', 0],
        ['callguard_decisions_total{function="orders.get",outcome="allow",code=""}', 0],
      ]),
    );
  });

  it("gives a reload's new functions their allow series at 0 and keeps what was counted", async () => {
    const registry = new Registry();
    const meter = createDecisionMetrics(registry, ['orders.get']);
    meter.decided(allow('orders.get'), 10);
    meter.declare(['orders.get', 'invoices.create']);
    expect(await series(registry, 'callguard_decisions_total')).toEqual(
      new Map([
        ['callguard_decisions_total{function="orders.get",outcome="allow",code=""}', 1],
        ['callguard_decisions_total{function="invoices.create",outcome="allow",code=""}', 0],
      ]),
    );
  });

  it.each([
    { name: 'an allow', record: { decision: allow('orders.create') }, labels: 'function="orders.create",outcome="allow",code=""' },
    {
      name: 'a denial for a function',
      record: { decision: deny('ERR_NOT_PERMITTED', 'orders.get') },
      labels: 'function="orders.get",outcome="deny",code="ERR_NOT_PERMITTED"',
    },
    {
      name: 'a shadow-mode denial',
      record: { decision: deny('ERR_NOT_PERMITTED', 'orders.get', true) },
      labels: 'function="orders.get",outcome="would-deny",code="ERR_NOT_PERMITTED"',
    },
    {
      name: 'no function matched',
      record: { decision: deny('ERR_FUNCTION_UNKNOWN') },
      labels: `function="${NO_FUNCTION}",outcome="deny",code="ERR_FUNCTION_UNKNOWN"`,
    },
    {
      name: 'a function added by a reload (not in the config at start)',
      record: { decision: allow('invoices.create') },
      labels: 'function="invoices.create",outcome="allow",code=""',
    },
    {
      name: 'a refusal before deciding',
      record: { refused: 'ERR_OVERLOADED' as const },
      labels: `function="${NO_FUNCTION}",outcome="deny",code="ERR_OVERLOADED"`,
    },
  ])('$name: {$labels}, counted each time', async ({ record, labels }) => {
    const registry = new Registry();
    const meter = createDecisionMetrics(registry, ['orders.create', 'orders.get']);
    for (let i = 0; i < 3; i++) {
      if ('refused' in record) meter.refused(record.refused);
      else meter.decided(record.decision, 40);
    }
    expect((await series(registry, 'callguard_decisions_total')).get(`callguard_decisions_total{${labels}}`)).toBe(3);
  });
});

describe('callguard_decision_duration_seconds', () => {
  it.each([
    { latencyUs: 30, le: '0.00005' },
    { latencyUs: 50, le: '0.00005' },
    { latencyUs: 51, le: '0.0001' },
    { latencyUs: 180_000, le: '0.2' },
    { latencyUs: 900_000, le: '+Inf' },
  ])('$latencyUs µs falls in the first bucket le=$le', async ({ latencyUs, le }) => {
    const registry = new Registry();
    createDecisionMetrics(registry, ['f']).decided(allow('f'), latencyUs);
    const histogram = await series(registry, 'callguard_decision_duration_seconds');
    const buckets = [...LATENCY_BUCKETS.map(String), '+Inf'];
    const first = buckets.find((b) => histogram.get(`callguard_decision_duration_seconds_bucket{le="${b}"}`) === 1);
    expect(first).toBe(le);
    expect(histogram.get('callguard_decision_duration_seconds_count')).toBe(1);
    expect(histogram.get('callguard_decision_duration_seconds_sum')).toBeCloseTo(latencyUs / 1e6, 9);
  });

  it('does not observe refusals (nothing was decided)', async () => {
    const registry = new Registry();
    createDecisionMetrics(registry, ['f']).refused('ERR_DECISION_LOG_UNAVAILABLE');
    expect((await series(registry, 'callguard_decision_duration_seconds')).get('callguard_decision_duration_seconds_count')).toBe(0);
  });
});
