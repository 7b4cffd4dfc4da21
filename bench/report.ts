/**
 * The result file (latest.json), its Markdown rendering (latest.md) and the chart (latency.svg), plus the
 * verdict on the issue's targets: ≥ 70 % of baseline saturation and p99 ≤ 2 ms at 2k req/s, cached token.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { EnvoyPathResult } from './envoy-path.js';
import { envoyMarkdown } from './envoy-report.js';
import type { PointResult } from './ghz.js';
import type { ScenarioResult } from './run-scenario.js';
import { latencyChart } from './svg.js';

export interface MachineInfo {
  readonly nproc: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly loadGenerator: string;
}

export interface BenchResults {
  readonly schemaVersion: 1;
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly machine: MachineInfo;
  readonly settings: Record<string, unknown>;
  readonly scenarios: readonly ScenarioResult[];
  readonly envoy: EnvoyPathResult | { readonly skipped: string };
  readonly targets?: Targets;
}

export interface Targets {
  readonly saturationRatio: { readonly measured: number | null; readonly target: 0.7; readonly met: boolean | null };
  /** `baseline` is the no-op server's p99 at the same rate: when it is over 2 ms too, the machine, not callguard, sets the floor. */
  readonly p99At2kMs: {
    readonly measured: number | null;
    readonly baseline: number | null;
    /** The same for a no-op grpc-go server that does not decode (`go-floor`): the floor of machine and load generator. */
    readonly goFloor: number | null;
    readonly target: 2;
    readonly met: boolean | null;
  };
  /** Baseline CPU µs per call ÷ callguard's at saturation: the throughput ratio both would reach on a whole core each. */
  readonly cpuCostRatio: number | null;
  readonly clusterScaleUp: { readonly callguard: number | null; readonly baseline: number | null };
  /** Issue 8: each waiting durability mode against `buffered`, same run; target for `written`: ≥ 0.90 of the throughput, ≤ +0.5 ms at p50. */
  readonly durability?: Readonly<Record<'written' | 'fsync', DurabilityCost>>;
  /**
   * Issue 9: an API-key call against a cached-token call, same run. Target: it costs no more, read as
   * CPU µs per call within 5 % (the noise of interleaved points on this machine).
   */
  readonly apiKey?: CredentialCost;
  /** Issue 9: a (cached) SAML assertion against a cached token, same run; no target. */
  readonly saml?: CredentialCost;
  /**
   * Issue 10, no target: a single-use token claimed in Redis on loopback against the cached token, and against
   * a new token every request (`cache-miss`, which a single-use token also is: the claim's own price).
   */
  readonly singleUse?: { readonly vsCached: RelativeCost; readonly vsCacheMiss: RelativeCost };
  /** Issue 10, no target: a DPoP proof per request (token cached) against the cached token. */
  readonly dpop?: RelativeCost;
  /** Issue 12, no target: the same order as a gRPC message (decoded with a descriptor set) against JSON (`cached`). */
  readonly grpcPayload?: RelativeCost;
  /** Issue 12, no target: the cached call as an MCP tools/call (same schema on `arguments`) against the JSON call. */
  readonly mcp?: RelativeCost;
}

export interface RelativeCost {
  /** Its saturation throughput ÷ the reference's. */
  readonly saturationRatio: number | null;
  /** Its CPU µs per call ÷ the reference's. */
  readonly cpuPerCallRatio: number | null;
}

export interface CredentialCost {
  /** Its saturation throughput ÷ the cached token's. */
  readonly saturationRatio: number | null;
  /** Its CPU µs per call ÷ the cached token's. */
  readonly cpuPerCallRatio: number | null;
  readonly met: boolean | null;
}

export interface DurabilityCost {
  readonly saturationRatio: number | null;
  readonly p50DeltaMsAt2k: number | null;
  readonly met: boolean | null;
}

export function machineInfo(ghz: string): MachineInfo {
  // `go install` builds report "dev" from --version; the module version is in the binary's build info.
  let version = 'ghz';
  try {
    const info = execFileSync('go', ['version', '-m', ghz], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    version = `ghz ${/\tmod\t\S+\t(\S+)/.exec(info)?.[1] ?? ''}`.trim();
  } catch {
    // no Go toolchain: the name is enough
  }
  return {
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    loadGenerator: version,
  };
}

const saturation = (s: ScenarioResult | undefined): PointResult | undefined => s?.points.find((p) => p.targetRate === null);
const atRate = (s: ScenarioResult | undefined, rate: number): PointResult | undefined => s?.points.find((p) => p.targetRate === rate);
const ratio = (a: number | undefined, b: number | undefined): number | null =>
  a === undefined || b === undefined || b === 0 ? null : Math.round((a / b) * 100) / 100;

export function evaluateTargets(scenarios: readonly ScenarioResult[]): Targets {
  // A scenario that failed (before, during or after its load) counts for no target.
  const byId = (id: string) => scenarios.find((s) => s.id === id && s.skipped === undefined);
  const measuredRatio = ratio(saturation(byId('cached'))?.achievedRps, saturation(byId('baseline'))?.achievedRps);
  const p99 = atRate(byId('cached'), 2000)?.latencyMs.p99;
  return {
    saturationRatio: { measured: measuredRatio, target: 0.7, met: measuredRatio === null ? null : measuredRatio >= 0.7 },
    p99At2kMs: {
      measured: p99 ?? null,
      baseline: atRate(byId('baseline'), 2000)?.latencyMs.p99 ?? null,
      goFloor: atRate(byId('go-floor'), 2000)?.latencyMs.p99 ?? null,
      target: 2,
      met: p99 === undefined ? null : p99 <= 2,
    },
    cpuCostRatio: ratio(saturation(byId('baseline'))?.serverCpuMicrosPerCall, saturation(byId('cached'))?.serverCpuMicrosPerCall),
    clusterScaleUp: {
      callguard: ratio(saturation(byId('cached-cluster'))?.achievedRps, saturation(byId('cached'))?.achievedRps),
      baseline: ratio(saturation(byId('baseline-cluster'))?.achievedRps, saturation(byId('baseline'))?.achievedRps),
    },
    ...(byId('api-key') === undefined ? {} : { apiKey: credentialCost(byId, 'api-key') }),
    ...(byId('saml') === undefined ? {} : { saml: credentialCost(byId, 'saml') }),
    ...(byId('single-use-redis') === undefined
      ? {}
      : { singleUse: { vsCached: relativeCost(byId, 'single-use-redis', 'cached'), vsCacheMiss: relativeCost(byId, 'single-use-redis', 'cache-miss') } }),
    ...(byId('dpop') === undefined ? {} : { dpop: relativeCost(byId, 'dpop', 'cached') }),
    ...(byId('grpc-payload') === undefined ? {} : { grpcPayload: relativeCost(byId, 'grpc-payload', 'cached') }),
    ...(byId('mcp-tool-call') === undefined ? {} : { mcp: relativeCost(byId, 'mcp-tool-call', 'cached') }),
    ...(byId('log-buffered') === undefined ? {} : { durability: { written: durabilityCost(byId, 'log-written'), fsync: durabilityCost(byId, 'log-fsync') } }),
  };
}

function credentialCost(byId: (id: string) => ScenarioResult | undefined, id: string): CredentialCost {
  const cached = saturation(byId('cached'));
  const mine = saturation(byId(id));
  const cpuPerCallRatio = ratio(mine?.serverCpuMicrosPerCall, cached?.serverCpuMicrosPerCall);
  return { saturationRatio: ratio(mine?.achievedRps, cached?.achievedRps), cpuPerCallRatio, met: cpuPerCallRatio === null ? null : cpuPerCallRatio <= 1.05 };
}

function relativeCost(byId: (id: string) => ScenarioResult | undefined, id: string, reference: string): RelativeCost {
  const mine = saturation(byId(id));
  const theirs = saturation(byId(reference));
  return {
    saturationRatio: ratio(mine?.achievedRps, theirs?.achievedRps),
    cpuPerCallRatio: ratio(mine?.serverCpuMicrosPerCall, theirs?.serverCpuMicrosPerCall),
  };
}

function durabilityCost(byId: (id: string) => ScenarioResult | undefined, id: string): DurabilityCost {
  const buffered = byId('log-buffered');
  const mode = byId(id);
  const saturationRatio = ratio(saturation(mode)?.achievedRps, saturation(buffered)?.achievedRps);
  const a = atRate(mode, 2000)?.latencyMs.p50;
  const b = atRate(buffered, 2000)?.latencyMs.p50;
  const p50DeltaMsAt2k = a === undefined || b === undefined ? null : Math.round((a - b) * 1000) / 1000;
  const met = saturationRatio === null || p50DeltaMsAt2k === null ? null : saturationRatio >= 0.9 && p50DeltaMsAt2k <= 0.5;
  return { saturationRatio, p50DeltaMsAt2k, met };
}

const mib = (bytes: number | undefined): string => (bytes === undefined ? '–' : `${Math.round(bytes / 2 ** 20)} MiB`);
const fmt = (value: number | boolean | null | undefined, unit = ''): string =>
  value === null || value === undefined || Number.isNaN(value) ? '–' : `${value === true ? 'yes' : value === false ? 'NO' : value}${unit}`;

/** Saturation throughput of the baseline with the same number of workers. */
function baselineRpsOf(scenarios: readonly ScenarioResult[]) {
  return (s: ScenarioResult) => saturation(scenarios.find((b) => b.target === 'baseline' && b.workers === s.workers && b.skipped === undefined))?.achievedRps;
}

function clusterNote(results: BenchResults): string {
  const workers = results.scenarios.find((s) => s.workers > 1)?.workers;
  if (workers === undefined) return 'not run';
  return workers >= results.machine.nproc ? `${workers} workers on ${results.machine.nproc} cores shared with ghz: understated` : '';
}

export function renderMarkdown(results: BenchResults): string {
  const m = results.machine;
  const t = results.targets;
  const lines = [
    '# callguard benchmark',
    '',
    `Run ${results.startedAt} (${results.durationSeconds} s) on ${m.nproc} × ${m.cpuModel}, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}; load: ${m.loadGenerator}.`,
    `Settings: ${Object.entries(results.settings)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join('; ')}.`,
    '',
    '## Targets (cached token)',
    '',
    '| target | measured | met |',
    '|---|---|---|',
    `| saturation ≥ 70 % of baseline | ${fmt(t?.saturationRatio.measured)} | ${fmt(t?.saturationRatio.met)} |`,
    `| p99 ≤ 2 ms at 2000 req/s | ${fmt(t?.p99At2kMs.measured, ' ms')} (baseline ${fmt(t?.p99At2kMs.baseline, ' ms')}, grpc-go no-op ${fmt(t?.p99At2kMs.goFloor, ' ms')}) | ${fmt(t?.p99At2kMs.met)} |`,
    `| CPU per call, baseline ÷ callguard (noise-robust form of the first row) | ${fmt(t?.cpuCostRatio)} | |`,
    `| all-cores scale-up (cluster / single) | callguard ${fmt(t?.clusterScaleUp.callguard)}×, baseline ${fmt(t?.clusterScaleUp.baseline)}× | ${clusterNote(results)} |`,
    `| decision log \`written\` vs \`buffered\`: ≥ 0.90× throughput, ≤ +0.5 ms p50 at 2000 req/s | ${fmt(t?.durability?.written.saturationRatio)}×, ${fmt(t?.durability?.written.p50DeltaMsAt2k, ' ms')} | ${fmt(t?.durability?.written.met)} |`,
    `| API key vs cached token: CPU per call ≤ 1.05× (throughput ratio alongside) | ${fmt(t?.apiKey?.cpuPerCallRatio)}× CPU, ${fmt(t?.apiKey?.saturationRatio)}× throughput | ${fmt(t?.apiKey?.met)} |`,
    `| SAML assertion (cached) vs cached token (no target) | ${fmt(t?.saml?.cpuPerCallRatio)}× CPU, ${fmt(t?.saml?.saturationRatio)}× throughput | |`,
    `| single-use token, claimed in Redis on loopback, vs cached token (no target) | ${fmt(t?.singleUse?.vsCached.cpuPerCallRatio)}× CPU, ${fmt(t?.singleUse?.vsCached.saturationRatio)}× throughput | |`,
    `| single-use token vs a new token every request (\`cache-miss\`): the claim's own price (no target) | ${fmt(t?.singleUse?.vsCacheMiss.cpuPerCallRatio)}× CPU, ${fmt(t?.singleUse?.vsCacheMiss.saturationRatio)}× throughput | |`,
    `| DPoP proof every request (token cached) vs cached token (no target) | ${fmt(t?.dpop?.cpuPerCallRatio)}× CPU, ${fmt(t?.dpop?.saturationRatio)}× throughput | |`,
    `| the order as a gRPC message vs as JSON (\`grpc-payload\` vs \`cached\`, no target) | ${fmt(t?.grpcPayload?.cpuPerCallRatio)}× CPU, ${fmt(t?.grpcPayload?.saturationRatio)}× throughput | |`,
    `| MCP tools/call vs the same JSON call (cached token, no target) | ${fmt(t?.mcp?.cpuPerCallRatio)}× CPU, ${fmt(t?.mcp?.saturationRatio)}× throughput | |`,
    `| decision log \`fsync\` vs \`buffered\` (no target) | ${fmt(t?.durability?.fsync.saturationRatio)}×, ${fmt(t?.durability?.fsync.p50DeltaMsAt2k, ' ms')} | |`,
    '',
    'Every callguard scenario but the `log-*` ones logs to /dev/null with the default durability, `written`.',
    '',
    '## Load points',
    '',
    'Latency in ms from ghz per-request details (successful calls). "server cores" = CPU the server processes used during the point (≈1 for a single process: the server, not ghz, was the limit; well below 1 at saturation: the machine was busy elsewhere). "CPU µs/call" = that CPU time divided by the calls served. Every point runs several times, interleaved across scenarios: fixed rates show the run with the median p99 (every run\'s p99 in parentheses), saturation the run with the median throughput (every run\'s req/s in parentheses).',
    '',
    '| scenario | load | achieved req/s | × baseline | p50 | p90 | p99 | p99.9 | server cores | CPU µs/call | errors |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  const baselineRps = baselineRpsOf(results.scenarios);
  for (const s of results.scenarios) {
    if (s.skipped !== undefined) {
      lines.push(`| ${s.id} | skipped: ${s.skipped.split('\n')[0]} | | | | | | | | | |`);
      continue;
    }
    for (const p of s.points) {
      const load = p.targetRate === null ? 'saturation' : `${p.targetRate}/s${p.overloaded ? ' (overloaded)' : ''}`;
      const l = p.latencyMs;
      lines.push(
        `| ${s.id} | ${load} | ${p.achievedRps}${p.rpsRuns === undefined ? '' : ` (runs: ${p.rpsRuns.join(', ')})`} | ${p.targetRate === null ? fmt(ratio(p.achievedRps, baselineRps(s))) : ''} | ${l.p50} | ${l.p90} | ${l.p99}${p.p99RunsMs === undefined ? '' : ` (runs: ${p.p99RunsMs.join(', ')})`} | ${l.p999} | ${p.serverCores} | ${p.serverCpuMicrosPerCall} | ${p.errors} |`,
      );
    }
  }
  lines.push('', '## Scenarios', '', '| scenario | what | functions | workers | RSS idle | RSS after load |', '|---|---|---|---|---|---|');
  for (const s of results.scenarios) {
    lines.push(`| ${s.id} | ${s.description} | ${s.functions} | ${s.workers} | ${mib(s.rssBytesIdle)} | ${mib(s.rssBytesAfterLoad)} |`);
  }
  lines.push('', ...envoyMarkdown(results.envoy), '', '![latency percentiles vs request rate](latency.svg)', '');
  return lines.join('\n');
}

/** Writes latest.json, latest.md and latency.svg into `dir`; returns their paths. */
export function writeResults(dir: string, results: BenchResults): string[] {
  mkdirSync(dir, { recursive: true });
  const complete = { ...results, targets: evaluateTargets(results.scenarios) };
  const files = [join(dir, 'latest.json'), join(dir, 'latest.md'), join(dir, 'latency.svg')];
  const [json, md, svg] = files as [string, string, string];
  writeFileSync(json, `${JSON.stringify(complete, null, 2)}\n`);
  writeFileSync(md, renderMarkdown(complete));
  const series = complete.scenarios.filter((s) => (s.id === 'baseline' || s.id === 'cached') && s.skipped === undefined);
  writeFileSync(svg, latencyChart(series, `${complete.machine.nproc} × ${complete.machine.cpuModel}, Node ${complete.machine.node}`));
  return files;
}
