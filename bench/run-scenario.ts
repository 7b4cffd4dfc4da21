/**
 * One scenario: start its server (pinned to CPU 0 while ghz runs on the others, or as a cluster on all
 * cores), prove with one probe call that the intended decision happens, warm up, run each load point, read
 * resident memory after the load, stop.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import { CheckRequestSchema } from '../src/gen/envoy/service/auth/v3/external_auth_pb.js';
import type { Fixtures } from './fixtures.js';
import { type PointResult, runLoadPoint } from './ghz.js';
import { assertProbe, type ProbeResult, probeCheck } from './probe.js';
import type { Scenario } from './scenarios.js';
import { launchServer, type LaunchSpec, type RunningServer } from './servers.js';

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
  readonly pin: boolean;
  readonly pointSeconds: number;
  readonly warmupSeconds: number;
  readonly onPoint?: (point: PointResult) => void;
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

/** Runs `scenario` end to end; a scenario that cannot run is returned with `skipped` set, never thrown. */
export async function runScenario(scenario: Scenario, ctx: ScenarioContext): Promise<ScenarioResult> {
  const concurrency = 50;
  const connections = scenario.workers > 1 ? 4 * scenario.workers : 2;
  const base = {
    id: scenario.id,
    target: scenario.target,
    description: scenario.description,
    functions: scenario.functions,
    workers: scenario.workers,
    concurrency,
    connections,
  };
  const prepared = await scenario.prepare(ctx.fixtures);
  const spec = launchSpec(scenario, ctx, prepared.config);
  if (spec === undefined) return { ...base, points: [], skipped: 'callguard CLI not found (src/cli/main.ts or dist/cli/main.js)' };
  let server: RunningServer | undefined;
  try {
    server = await launchServer(spec);
    const probe = await probeCheck(server.address, firstRequest(prepared.dataFile));
    assertProbe(scenario.id, probe, scenario.target === 'baseline' ? undefined : scenario.expectHttp);
    const rssBytesIdle = server.rssBytes();
    const loadCpus = ctx.pin && scenario.workers === 1 ? `1-${availableParallelism() - 1}` : undefined;
    const running = server;
    const target = {
      ghz: ctx.ghz,
      protoset: ctx.protoset,
      dataFile: prepared.dataFile,
      address: server.address,
      cpus: loadCpus,
      workDir: ctx.workDir,
      serverCpuSeconds: () => running.cpuSeconds(),
    };
    await runLoadPoint(target, { rate: null, durationSeconds: ctx.warmupSeconds, concurrency, connections });
    const points: PointResult[] = [];
    for (const rate of scenario.rates) {
      const point = await runLoadPoint(target, { rate, durationSeconds: ctx.pointSeconds, concurrency, connections });
      ctx.onPoint?.(point);
      points.push(point);
    }
    return { ...base, probe, points, rssBytesIdle, rssBytesAfterLoad: server.rssBytes() };
  } catch (error) {
    const tail = server === undefined ? '' : `\n${server.stderrTail()}`;
    return { ...base, points: [], skipped: `failed: ${error instanceof Error ? error.message : String(error)}${tail}` };
  } finally {
    await server?.stop();
  }
}
