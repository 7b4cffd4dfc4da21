import { Counter, Gauge, type Registry } from 'prom-client';
import type { Admission } from '../admission.js';
import type { DecisionLog, DecisionLogStats } from '../decision-log/create-decision-log.js';
import type { KeySourceStatus } from '../identity/key-source-status.js';
import type { ToolServerStatus } from '../payload/jsonrpc/list-tool-servers.js';

/** What the state metrics read, at scrape time: the running Callguard provides each. */
export interface MetricSources {
  keySources(): readonly KeySourceStatus[];
  toolServers(): readonly ToolServerStatus[];
  credentialCaches(): readonly { readonly kind: string; readonly hits: number; readonly misses: number }[];
  readonly log: Pick<DecisionLog, 'stats'>;
  readonly admission: Pick<Admission, 'inFlight'>;
}

/**
 * Metrics that reflect state (key sources, credential caches, the decision log, calls in flight):
 * read from `sources` when scraped, never kept up to date on the hot path.
 */
export function registerStateMetrics(registry: Registry, sources: MetricSources): void {
  const registers = [registry];
  new Gauge({
    name: 'callguard_key_fetch_ok',
    help: 'Per remote key source (an issuer with jwksUrl or discovery, a SAML IdP with metadataUrl): 1 when its last fetch succeeded, else 0.',
    labelNames: ['issuer'] as const,
    registers,
    collect() {
      this.reset();
      for (const source of sources.keySources()) this.set({ issuer: source.name }, source.lastFetchOk ? 1 : 0);
    },
  });
  new Gauge({
    name: 'callguard_key_age_seconds',
    help: 'Per remote key source: seconds since its last successful fetch; absent until the first.',
    labelNames: ['issuer'] as const,
    registers,
    collect() {
      this.reset();
      for (const source of sources.keySources()) if (source.ageSeconds !== undefined) this.set({ issuer: source.name }, source.ageSeconds);
    },
  });
  new Gauge({
    name: 'callguard_mcp_tools_listed',
    help: 'Per function whose MCP server supplies tool schemas (mcp.server): 1 when the running config has its listing, 0 while its tools are refused (ERR_MCP_TOOLS_UNAVAILABLE).',
    labelNames: ['function'] as const,
    registers,
    collect() {
      this.reset();
      for (const server of sources.toolServers()) this.set({ function: server.function }, server.listed ? 1 : 0);
    },
  });
  for (const [name, key, what] of [
    ['callguard_token_cache_hits_total', 'hits', 'found a verified credential'],
    ['callguard_token_cache_misses_total', 'misses', 'found none (verified anew)'],
  ] as const) {
    new Counter({
      name,
      help: `Lookups in a cache of verified credentials (identity.tokenCacheSize) that ${what}, by credential kind (jwt, saml).`,
      labelNames: ['kind'] as const,
      registers,
      collect() {
        this.reset();
        for (const cache of sources.credentialCaches()) this.inc({ kind: cache.kind }, cache[key]);
      },
    });
  }
  const logGauge = (name: string, help: string, read: (stats: DecisionLogStats) => number): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read(sources.log.stats()));
      },
    });
  };
  logGauge(
    'callguard_decision_log_healthy',
    '1 while the decision log writes, else 0 (its sink failed or stalled: calls are refused with ERR_DECISION_LOG_UNAVAILABLE).',
    (s) => (s.healthy ? 1 : 0),
  );
  logGauge('callguard_decision_log_queue_lines', 'Decision-log lines queued or being written.', (s) => s.pendingLines);
  logGauge(
    'callguard_decision_log_queue_bytes',
    'Bytes of decision-log lines queued or being written; at decisionLog.maxPendingBytes calls are refused.',
    (s) => s.pendingBytes,
  );
  new Counter({
    name: 'callguard_decision_log_lines_lost_total',
    help: 'Decision-log lines handed to a write that failed (each loss is counted in a decision-log-gap line).',
    registers,
    collect() {
      this.reset();
      this.inc(sources.log.stats().linesLost);
    },
  });
  new Gauge({
    name: 'callguard_calls_in_flight',
    help: 'Calls admitted and not yet answered (server.maxInFlight bounds it).',
    registers,
    collect() {
      this.set(sources.admission.inFlight);
    },
  });
}
