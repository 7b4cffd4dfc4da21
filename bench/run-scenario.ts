/**
 * One scenario: start its server (pinned to CPU 0 while ghz runs on the others, or as a cluster on all
 * cores), prove with one probe call that the intended decision happens, warm up, run each load point, read
 * resident memory after the load, stop.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import { type CheckRequest, CheckRequestSchema } from '../src/gen/envoy/service/auth/v3/external_auth_pb.js';
import type { Fixtures } from './fixtures.js';
import { type GhzTarget, type PointResult, runLoadPoint } from './ghz.js';
import { assertProbe, type ProbeResult, probeCheck } from './probe.js';
import type { Prepared, Scenario } from './scenarios.js';
import { type LaunchSpec, launchServer, type RunningServer } from './servers.js';

export interface ScenarioResult {
  readonly id: string;
  readonly target: Scenario['target'];
  readonly description: string;
  readonly functions: number;
  readonly workers: number;
  readonly concurrency: number;
  readonly connections: number;
  readonly probe?: ProbeResult;
  readonly points: PointResult[];
  /** Resident memory of the server processes after the load, in bytes. */
  readonly rssBytesAfterLoad?: number;
  readonly rssBytesIdle?: number;
  readonly skipped?: string;
}

export interface ScenarioContext {
  readonly root: string;
  readonly fixtures: Fixtures;
  readonly ghz: string;
  readonly protoset: string;
  readonly workDir: string;
  /** node arguments that start callguard (without `serve --config`), or undefined when it does not exist. */
  readonly callguardArgs: readonly string[] | undefined;
  /** The built grpc-go no-op server (`go-floor`), or undefined. */
  readonly goNoop?: string | undefined;
  /** ghz workers per single-process scenario (cluster scenarios use the same). */
  readonly concurrency: number;
  readonly pin: boolean;
  readonly pointSeconds: number;
  readonly warmupSeconds: number;
  /** Runs per fixed-rate point (the median-p99 run is kept). */
  readonly repeat: number;
  readonly onPoint?: (scenarioId: string, point: PointResult) => void;
}

/** The first message of a count-delimited ghz data file (for the probe). */
function firstRequest(dataFile: string) {
  const data = readFileSync(dataFile);
  let length = 0;
  let shift = 0;
  let offset = 0;
  for (;;) {
    const byte = data[offset++] ?? 0;
    length += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) break;
  }
  return fromBinary(CheckRequestSchema, data.subarray(offset, offset + length));
}

function launchSpec(scenario: Scenario, ctx: ScenarioContext, config: string | undefined): LaunchSpec | undefined {
  if (scenario.target === 'go-floor') {
    if (ctx.goNoop === undefined || scenario.workers > 1) return undefined;
    return { command: ctx.goNoop, args: [], readyMsg: 'go noop listening', cpus: ctx.pin ? '0' : undefined, cwd: ctx.root };
  }
  const serverArgs =
    scenario.target === 'baseline'
      ? ['--import', 'tsx', join(ctx.root, 'bench/noop-server.ts')]
      : ctx.callguardArgs === undefined || config === undefined
        ? undefined
        : [...ctx.callguardArgs, 'serve', '--config', config];
  if (serverArgs === undefined) return undefined;
  const readyMsg = scenario.target === 'baseline' ? 'noop listening' : 'callguard listening';
  if (scenario.workers > 1) {
    // The primary runs under tsx and passes its execArgv on, so workers load .ts and .js alike.
    const script = serverArgs[0] === '--import' ? serverArgs.slice(2) : serverArgs;
    const cluster = join(ctx.root, 'bench/cluster.ts');
    const args = ['--import', 'tsx', cluster, '--workers', String(scenario.workers), '--', ...script];
    return { command: process.execPath, args, readyMsg: 'cluster listening', cwd: ctx.root };
  }
  return { command: process.execPath, args: serverArgs, readyMsg, cpus: ctx.pin ? '0' : undefined, cwd: ctx.root };
}

interface Started {
  readonly scenario: Scenario;
  readonly base: Omit<ScenarioResult, 'points'>;
  readonly server?: RunningServer;
  readonly target?: GhzTarget;
  readonly load: { readonly concurrency: number; readonly connections: number };
  readonly points: PointResult[];
  /** The probe's request, sent again after the load. */
  readonly request?: CheckRequest;
  readonly prepared?: Prepared;
  failure?: string;
}

/**
 * One load point, from a clean slate when the scenario's requests may each be accepted once; throws when the
 * point sent more calls than the data file has distinct requests (ghz starts again at its first message).
 */
async function runPoint(target: GhzTarget, prepared: Prepared | undefined, load: Parameters<typeof runLoadPoint>[1]): Promise<PointResult> {
  await prepared?.beforeLoad?.();
  const point = await runLoadPoint(target, load);
  const calls = point.ok + point.errors + load.concurrency;
  if (prepared?.distinctRequests !== undefined && calls > prepared.distinctRequests) {
    throw new Error(
      `${calls} calls but ${prepared.distinctRequests} distinct requests: the rest were replays; raise the request count in bench/replay-scenarios.ts`,
    );
  }
  return point;
}

/** HTTP status the scenario's probe must see; undefined = allow (no-op servers always allow). */
const expectedHttp = (scenario: Scenario): number | undefined => (scenario.target === 'callguard' ? scenario.expectHttp : undefined);

async function start(scenario: Scenario, ctx: ScenarioContext): Promise<Started> {
  // ghz refuses more connections than workers.
  const connections = Math.min(ctx.concurrency, scenario.workers > 1 ? 4 * scenario.workers : 2);
  const load = { concurrency: ctx.concurrency, connections };
  const base = {
    id: scenario.id,
    target: scenario.target,
    description: scenario.description,
    functions: scenario.functions,
    workers: scenario.workers,
    ...load,
  };
  let prepared: Prepared;
  try {
    prepared = await scenario.prepare(ctx.fixtures);
  } catch (error) {
    return { scenario, base, load, points: [], failure: `failed to prepare: ${error instanceof Error ? error.message : String(error)}` };
  }
  const spec = launchSpec(scenario, ctx, prepared.config);
  if (spec === undefined) {
    await prepared.dispose?.();
    const missing =
      scenario.target === 'go-floor' ? 'go-noop not built (bench/install-tools.sh)' : 'callguard CLI not found (src/cli/main.ts or dist/cli/main.js)';
    return { scenario, base, load, points: [], failure: missing };
  }
  let server: RunningServer | undefined;
  try {
    server = await launchServer(spec);
    const request = firstRequest(prepared.dataFile);
    const probe = await probeCheck(server.address, request);
    assertProbe(scenario.id, probe, expectedHttp(scenario));
    const running = server;
    const target: GhzTarget = {
      ghz: ctx.ghz,
      protoset: ctx.protoset,
      dataFile: prepared.dataFile,
      address: server.address,
      cpus: ctx.pin && scenario.workers === 1 ? `1-${availableParallelism() - 1}` : undefined,
      workDir: ctx.workDir,
      serverCpuSeconds: () => running.cpuSeconds(),
    };
    const rssBytesIdle = server.rssBytes();
    await runPoint(target, prepared, { rate: null, durationSeconds: ctx.warmupSeconds, ...load });
    return { scenario, base: { ...base, probe, rssBytesIdle }, server, target, load, points: [], request, prepared };
  } catch (error) {
    const tail = server === undefined ? '' : `\n${server.stderrTail()}`;
    await server?.stop();
    await prepared.dispose?.();
    return { scenario, base, load, points: [], failure: `failed: ${error instanceof Error ? error.message : String(error)}${tail}` };
  }
}

/** Saturation: the run with the median throughput, annotated with every run's req/s. */
function medianByRps(points: readonly PointResult[]): PointResult {
  const sorted = [...points].sort((a, b) => a.achievedRps - b.achievedRps);
  const median = sorted[Math.floor((sorted.length - 1) / 2)] as PointResult;
  return points.length > 1 ? { ...median, rpsRuns: points.map((p) => p.achievedRps) } : median;
}

/** The run with the median p99, annotated with every run's p99 when there was more than one. */
function medianByP99(points: readonly PointResult[]): PointResult {
  const sorted = [...points].sort((a, b) => a.latencyMs.p99 - b.latencyMs.p99);
  const median = sorted[Math.floor((sorted.length - 1) / 2)] as PointResult;
  return points.length > 1 ? { ...median, p99RunsMs: points.map((p) => p.latencyMs.p99) } : median;
}

/**
 * Runs scenarios side by side: every server is started and warmed up first, then each load point is run
 * for every scenario in turn (baseline 1k, callguard 1k, baseline 2k, …), so a burst of noise from the rest
 * of the machine lands on both sides of a comparison instead of on one. A scenario that cannot run comes
 * back with `skipped` set; nothing is thrown.
 */
export async function runScenarios(scenarios: readonly Scenario[], ctx: ScenarioContext): Promise<ScenarioResult[]> {
  const started: Started[] = [];
  try {
    for (const scenario of scenarios) started.push(await start(scenario, ctx));
    const rates = [...new Set(scenarios.flatMap((s) => s.rates))];
    for (const rate of rates) {
      const runs = new Map<Started, PointResult[]>();
      // Results swing with whatever else the machine does: run every point `repeat` times, interleaved,
      // and keep the run with the median p99 (fixed rates; all p99s in `p99RunsMs`) or the median
      // throughput (saturation; all in `rpsRuns`), so one noisy run cannot make or break a ratio.
      for (let round = 0; round < ctx.repeat; round++) {
        for (const s of started) {
          if (s.target === undefined || s.failure !== undefined || !s.scenario.rates.includes(rate)) continue;
          try {
            const point = await runPoint(s.target, s.prepared, { rate, durationSeconds: ctx.pointSeconds, ...s.load });
            ctx.onPoint?.(s.scenario.id, point);
            runs.set(s, [...(runs.get(s) ?? []), point]);
          } catch (error) {
            s.failure = `failed: ${error instanceof Error ? error.message : String(error)}`;
          }
        }
      }
      for (const [s, points] of runs) s.points.push(rate === null ? medianByRps(points) : medianByP99(points));
    }
    // The same decision after the load as before it: a server that started refusing mid-run (its decision
    // log failed closed, say) would otherwise be reported as fast.
    for (const s of started) {
      if (s.server === undefined || s.request === undefined || s.failure !== undefined) continue;
      try {
        await s.prepared?.beforeLoad?.();
        // Requests accepted once: the first one of the data file as it is now (new proofs), not the one used before.
        const request = s.prepared?.beforeLoad === undefined ? s.request : firstRequest(s.prepared.dataFile);
        assertProbe(`${s.scenario.id} after the load`, await probeCheck(s.server.address, request), expectedHttp(s.scenario));
      } catch (error) {
        s.failure = `failed: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    return started.map((s) => ({
      ...s.base,
      points: s.points,
      ...(s.server === undefined ? {} : { rssBytesAfterLoad: s.server.rssBytes() }),
      ...(s.failure === undefined ? {} : { skipped: s.failure }),
    }));
  } finally {
    await Promise.all(started.map((s) => s.server?.stop()));
    await Promise.all(started.map((s) => s.prepared?.dispose?.()));
  }
}
