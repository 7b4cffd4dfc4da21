import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { type MetricSources, registerStateMetrics } from '../../../src/admin/state-metrics.js';
import type { DecisionLogStats } from '../../../src/decision-log/create-decision-log.js';
import type { KeySourceStatus } from '../../../src/identity/key-source-status.js';
import type { ToolServerStatus } from '../../../src/payload/jsonrpc/list-tool-servers.js';

/** Sources whose state a test changes between scrapes. */
function mutableSources() {
  const state = {
    keys: [] as KeySourceStatus[],
    tools: [] as ToolServerStatus[],
    caches: [] as { kind: string; hits: number; misses: number }[],
    log: {
      durability: 'written',
      healthy: true,
      pendingBytes: 0,
      pendingLines: 0,
      linesWritten: 0,
      linesLost: 0,
      failures: 0,
      rotations: 0,
    } as DecisionLogStats,
    inFlight: 0,
  };
  const sources: MetricSources = {
    keySources: () => state.keys,
    toolServers: () => state.tools,
    credentialCaches: () => state.caches,
    log: { stats: () => state.log },
    admission: {
      get inFlight() {
        return state.inFlight;
      },
    },
  };
  return { state, sources };
}

async function value(registry: Registry, series: string): Promise<number | undefined> {
  const name = series.split('{')[0] as string;
  const line = (await registry.getSingleMetricAsString(name)).split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('state metrics: read at scrape time', () => {
  it.each([
    {
      name: 'a key source fetched 42 s ago',
      change: (s: ReturnType<typeof mutableSources>['state']) => {
        s.keys = [{ name: 'corp', loaded: true, lastFetchOk: true, ageSeconds: 42 }];
      },
      expected: { 'callguard_key_fetch_ok{issuer="corp"}': 1, 'callguard_key_age_seconds{issuer="corp"}': 42 },
    },
    {
      name: 'a key source never fetched: no age',
      change: (s: ReturnType<typeof mutableSources>['state']) => {
        s.keys = [{ name: 'adfs', loaded: false, lastFetchOk: false, ageSeconds: undefined }];
      },
      expected: { 'callguard_key_fetch_ok{issuer="adfs"}': 0, 'callguard_key_age_seconds{issuer="adfs"}': undefined },
    },
    {
      name: 'MCP servers: one listed, one not yet',
      change: (s: ReturnType<typeof mutableSources>['state']) => {
        s.tools = [
          { function: 'weather', url: 'https://weather:8443/mcp', listed: true },
          { function: 'files', url: 'https://files:8443/mcp', listed: false },
        ];
      },
      expected: { 'callguard_mcp_tools_listed{function="weather"}': 1, 'callguard_mcp_tools_listed{function="files"}': 0 },
    },
    {
      name: 'credential caches',
      change: (s: ReturnType<typeof mutableSources>['state']) => {
        s.caches = [
          { kind: 'jwt', hits: 90, misses: 10 },
          { kind: 'saml', hits: 0, misses: 3 },
        ];
      },
      expected: {
        'callguard_token_cache_hits_total{kind="jwt"}': 90,
        'callguard_token_cache_misses_total{kind="jwt"}': 10,
        'callguard_token_cache_hits_total{kind="saml"}': 0,
        'callguard_token_cache_misses_total{kind="saml"}': 3,
      },
    },
    {
      name: 'a failing decision log with a queue',
      change: (s: ReturnType<typeof mutableSources>['state']) => {
        s.log = { ...s.log, healthy: false, pendingLines: 7, pendingBytes: 2100, linesLost: 3 };
      },
      expected: {
        callguard_decision_log_healthy: 0,
        callguard_decision_log_queue_lines: 7,
        callguard_decision_log_queue_bytes: 2100,
        callguard_decision_log_lines_lost_total: 3,
      },
    },
    {
      name: 'calls in flight',
      change: (s: ReturnType<typeof mutableSources>['state']) => {
        s.inFlight = 12;
      },
      expected: { callguard_calls_in_flight: 12 },
    },
  ])('$name', async ({ change, expected }) => {
    const { state, sources } = mutableSources();
    const registry = new Registry();
    registerStateMetrics(registry, sources);
    await registry.metrics(); // a scrape before the change must not stick
    change(state);
    for (const [series, v] of Object.entries(expected)) expect([series, await value(registry, series)]).toEqual([series, v]);
  });

  it('a key source removed between scrapes disappears from the key metrics', async () => {
    const { state, sources } = mutableSources();
    const registry = new Registry();
    registerStateMetrics(registry, sources);
    state.keys = [{ name: 'old', loaded: true, lastFetchOk: true, ageSeconds: 1 }];
    expect(await value(registry, 'callguard_key_fetch_ok{issuer="old"}')).toBe(1);
    state.keys = [];
    expect(await value(registry, 'callguard_key_fetch_ok{issuer="old"}')).toBeUndefined();
  });

  it('every metric has HELP text and the callguard_ prefix', async () => {
    const registry = new Registry();
    registerStateMetrics(registry, mutableSources().sources);
    const metrics = await registry.getMetricsAsJSON();
    expect(metrics.length).toBeGreaterThan(0);
    for (const metric of metrics) {
      expect(metric.name).toMatch(/^callguard_/);
      expect(metric.help.length).toBeGreaterThan(20);
    }
  });
});
