/**
 * Drives `ghz` (a Go gRPC load generator, so the load does not share the server's Node event loop) and turns
 * its per-request details into percentiles; ghz's own summary stops at p99 and the report needs p99.9.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface LoadSpec {
  /** Requests per second, or `null` for saturation (as fast as `concurrency` workers go). */
  readonly rate: number | null;
  readonly durationSeconds: number;
  readonly concurrency: number;
  readonly connections: number;
}

export interface LatencyMs {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export interface PointResult {
  readonly targetRate: number | null;
  readonly achievedRps: number;
  readonly ok: number;
  readonly errors: number;
  readonly latencyMs: LatencyMs;
  /** CPU the server used during the point, in cores (1.0 = one core busy the whole time). */
  readonly serverCores: number;
  /** Server CPU time per call, µs: robust to a noisy machine, unlike throughput. */
  readonly serverCpuMicrosPerCall: number;
  /** p99 of every run of this point when it was repeated (the reported run is the median one). */
  readonly p99RunsMs?: readonly number[];
  /** Saturation only: req/s of every run when the point ran more than once (the median run is kept). */
  readonly rpsRuns?: readonly number[];
  /** True when a fixed rate was not reached (achieved < 95 % of target): the server is past saturation. */
  readonly overloaded: boolean;
}

export interface GhzTarget {
  readonly ghz: string;
  readonly protoset: string;
  readonly dataFile: string;
  readonly address: string;
  /** `taskset -c` CPU list for ghz, or undefined. */
  readonly cpus?: string | undefined;
  readonly workDir: string;
  readonly serverCpuSeconds: () => number;
}

/** Builds the Authorization service's descriptor set (ghz's `--protoset`) into `file` with buf, from `root`'s proto workspace; returns `file`. */
export function buildProtoset(root: string, file: string): string {
  execFileSync(join(root, 'node_modules/.bin/buf'), ['build', 'proto', '--path', 'proto/deps/envoy-api/envoy/service/auth/v3', '-o', file], { cwd: root });
  return file;
}

/** Finds ghz: `$GHZ`, then bench/.tools/bin/ghz (install-tools.sh), then PATH. */
export function findGhz(root: string): string | undefined {
  const candidates = [process.env.GHZ, join(root, 'bench/.tools/bin/ghz')];
  for (const candidate of candidates) if (candidate !== undefined && existsSync(candidate)) return candidate;
  for (const dir of (process.env.PATH ?? '').split(':')) if (existsSync(join(dir, 'ghz'))) return join(dir, 'ghz');
  return undefined;
}

/** Nearest-rank percentile of ascending `sorted` (nanoseconds) in milliseconds. */
export function percentileMs(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round((sorted[rank] ?? Number.NaN) / 1e3) / 1e3;
}

interface GhzReport {
  rps: number;
  details?: { latency: number; status: string }[];
}

/** Runs one load point and summarizes it. */
export async function runLoadPoint(target: GhzTarget, load: LoadSpec): Promise<PointResult> {
  const out = join(target.workDir, 'ghz-out.json');
  const args = [
    '--insecure',
    '--protoset',
    target.protoset,
    '--call',
    'envoy.service.auth.v3.Authorization/Check',
    '--binary-file',
    target.dataFile,
    '--concurrency',
    String(load.concurrency),
    '--connections',
    String(load.connections),
    '--duration',
    `${load.durationSeconds}s`,
    '--duration-stop',
    'wait',
    '--skipFirst',
    String(load.concurrency),
    '--timeout',
    '10s',
    '--format',
    'json',
    '--output',
    out,
    ...(load.rate === null ? [] : ['--rps', String(load.rate)]),
    target.address,
  ];
  const [command, commandArgs] = target.cpus === undefined ? [target.ghz, args] : ['taskset', ['-c', target.cpus, target.ghz, ...args]];
  const cpuBefore = target.serverCpuSeconds();
  const started = process.hrtime.bigint();
  await run(command, commandArgs, { maxBuffer: 16 * 1024 * 1024 });
  const elapsedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const serverCpuSeconds = target.serverCpuSeconds() - cpuBefore;
  const serverCores = serverCpuSeconds / elapsedSeconds;
  const report = JSON.parse(readFileSync(out, 'utf8')) as GhzReport;
  rmSync(out, { force: true });
  const okLatencies: number[] = [];
  let errors = 0;
  for (const detail of report.details ?? []) {
    if (detail.status === 'OK') okLatencies.push(detail.latency);
    else errors++;
  }
  okLatencies.sort((a, b) => a - b);
  return {
    targetRate: load.rate,
    achievedRps: Math.round(report.rps),
    ok: okLatencies.length,
    errors,
    latencyMs: {
      p50: percentileMs(okLatencies, 50),
      p90: percentileMs(okLatencies, 90),
      p99: percentileMs(okLatencies, 99),
      p999: percentileMs(okLatencies, 99.9),
      max: percentileMs(okLatencies, 100),
    },
    serverCores: Math.round(serverCores * 100) / 100,
    // ghz skips the first `concurrency` calls in its details; they used CPU too.
    serverCpuMicrosPerCall: Math.round((serverCpuSeconds / (okLatencies.length + errors + load.concurrency)) * 1e6),
    overloaded: load.rate !== null && report.rps < 0.95 * load.rate,
  };
}
