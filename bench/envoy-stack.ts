/**
 * The slice of the Envoy stack helpers (scripts/lib) the through-path benchmark uses, typed here and loaded
 * dynamically, so the benchmark still type-checks and runs (skipping that part) before the stack lands.
 * Also derives the "App and Envoy" configuration: the stack's own Envoy config with ext_authz removed.
 */

interface StackProcess<T> {
  readonly ready: T;
  stop(graceMs?: number): Promise<void>;
}

interface StackPorts {
  envoy: number;
  envoyAdmin: number;
  callguard: number;
  function: number;
}

export interface StackModules {
  readonly config: {
    localLayout(options: { pkiDir: string; decisionLog: string; ports: StackPorts }): unknown;
    writeStackConfigs(outDir: string, layout: unknown): Promise<{ envoyConfig: string; callguardConfig: string }>;
  };
  readonly processes: {
    envoyVersion(): string | undefined;
    startFunction(options: { pkiDir: string; port: number }): Promise<StackProcess<number>>;
    startCallguard(options: { config: string }): Promise<StackProcess<number>>;
    startEnvoy(options: { config: string }): Promise<StackProcess<{ adminAddress: string; listenPort: number }>>;
    adminGet(adminAddress: string, pathAndQuery: string): Promise<string>;
  };
  readonly issuer: {
    ensureDevIssuer(dir: string): Promise<{ mint(claims: { subject: string; groups?: readonly string[] }): Promise<string> }>;
  };
}

const EXT_AUTHZ = 'envoy.filters.http.ext_authz';

/**
 * Returns a copy of a parsed Envoy bootstrap without the ext_authz HTTP filter and its per-route settings
 * (Envoy rejects per-route config for a filter that is not in the chain). Everything else, TLS included,
 * stays as the stack configures it.
 */
export function stripExtAuthz(bootstrap: unknown): unknown {
  if (Array.isArray(bootstrap)) {
    return bootstrap.filter((item) => !(typeof item === 'object' && item !== null && (item as { name?: unknown }).name === EXT_AUTHZ)).map(stripExtAuthz);
  }
  if (typeof bootstrap !== 'object' || bootstrap === null) return bootstrap;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(bootstrap)) {
    if (key === 'typed_per_filter_config' && typeof value === 'object' && value !== null) {
      const rest = Object.fromEntries(Object.entries(value).filter(([name]) => name !== EXT_AUTHZ));
      if (Object.keys(rest).length > 0) copy[key] = stripExtAuthz(rest);
      continue;
    }
    copy[key] = stripExtAuthz(value);
  }
  return copy;
}

/**
 * The stack's Envoy config with a plaintext Envoy→callguard hop (the `callguard` cluster loses its
 * transport socket), to separate the cost of that hop's mTLS from callguard's own work. Diagnostic only:
 * the stack always encrypts this hop.
 */
export function plaintextCallguardCluster(bootstrap: unknown): unknown {
  const copy = structuredClone(bootstrap) as { static_resources?: { clusters?: { name?: string; transport_socket?: unknown }[] } };
  for (const cluster of copy.static_resources?.clusters ?? []) {
    if (cluster.name === 'callguard') delete cluster.transport_socket;
  }
  return copy;
}

/** callguard's stack config without `server.tls` (pairs with `plaintextCallguardCluster`). */
export function withoutServerTls(config: unknown): unknown {
  const copy = structuredClone(config) as { server?: { tls?: unknown } };
  if (copy.server !== undefined) delete copy.server.tls;
  return copy;
}

interface AdminHistograms {
  stats?: { histograms?: { supported_quantiles?: number[]; computed_quantiles?: { name?: string; values?: { cumulative?: number | null }[] }[] } }[];
}

/**
 * p50/p90/p99 (ms) of one Envoy histogram from `/stats?format=json&histogram_buckets=none`: `values` runs
 * parallel to `supported_quantiles`, each with the `cumulative` quantile since start.
 */
export function envoyHistogram(adminJson: string, name: string): { p50: number; p90: number; p99: number } | undefined {
  const histograms = (JSON.parse(adminJson) as AdminHistograms).stats?.find((s) => s.histograms !== undefined)?.histograms;
  const quantiles = histograms?.supported_quantiles ?? [];
  const values = histograms?.computed_quantiles?.find((q) => q.name === name)?.values;
  if (values === undefined) return undefined;
  const at = (q: number) => Math.round((values[quantiles.indexOf(q)]?.cumulative ?? Number.NaN) * 1000) / 1000;
  return { p50: at(50), p90: at(90), p99: at(99) };
}
