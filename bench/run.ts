/**
 * `npm run bench`: the no-op baseline and callguard under the same ghz load, back to back in one run, then
 * Envoy through-path numbers when the stack is available. Writes bench/results/latest.{json,md} and
 * latency.svg. Flags: --quick (~20 s), --only ID[,ID], --seconds N (per point), --rates 1000,2000,5000,
 * --repeat N (runs per fixed-rate point, median p99 kept; default 3, 1 with --quick), --workers N (cluster
 * size, default all cores), --concurrency N (ghz workers, default 50), --no-pin, --no-envoy, --out DIR.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runEnvoyPath } from './envoy-path.js';
import { createFixtures } from './fixtures.js';
import { buildProtoset, findGhz } from './ghz.js';
import { type BenchResults, machineInfo, writeResults } from './report.js';
import { runScenarios, type ScenarioResult } from './run-scenario.js';
import { buildMatrix } from './scenarios.js';
import { callguardCommand, findGoNoop } from './servers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      seconds: { type: 'string' },
      repeat: { type: 'string' },
      rates: { type: 'string', default: '1000,2000,5000' },
      workers: { type: 'string', default: String(availableParallelism()) },
      concurrency: { type: 'string', default: '50' },
      'no-pin': { type: 'boolean', default: false },
      'no-envoy': { type: 'boolean', default: false },
      out: { type: 'string', default: join(ROOT, 'bench/results') },
    },
  });
  const quick = values.quick;
  return {
    quick,
    only: values.only?.split(',').filter((id) => id !== ''),
    pointSeconds: positiveInteger('--seconds', values.seconds ?? (quick ? '2' : '4')),
    warmupSeconds: quick ? 1 : 2,
    repeat: positiveInteger('--repeat', values.repeat ?? (quick ? '1' : '3')),
    rates: (quick && values.rates === '1000,2000,5000' ? '1000,2000' : values.rates).split(',').map((r) => positiveInteger('--rates', r)),
    workers: positiveInteger('--workers', values.workers),
    concurrency: positiveInteger('--concurrency', values.concurrency),
    pin: !values['no-pin'] && availableParallelism() >= 2,
    envoy: !values['no-envoy'] && !quick,
    out: resolve(values.out),
  };
}

function positiveInteger(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} must be a positive integer, got ${JSON.stringify(text)}`);
  return value;
}

async function main(): Promise<void> {
  const opts = options();
  const started = new Date();
  const ghz = findGhz(ROOT);
  if (ghz === undefined) throw new Error('ghz not found: run bench/install-tools.sh (or set GHZ=/path/to/ghz)');
  const workDir = join(ROOT, 'bench/results/tmp', `run-${process.pid}`);
  mkdirSync(workDir, { recursive: true });
  const fixtures = await createFixtures(workDir);
  const protoset = buildProtoset(ROOT, join(workDir, 'auth.binpb'));
  const callguard = callguardCommand(ROOT);
  const goNoop = findGoNoop(ROOT);
  const matrix = buildMatrix({ ...opts, goFloor: goNoop !== undefined }).filter((s) => opts.only === undefined || opts.only.includes(s.id));

  // Single-process scenarios share CPU 0 and are interleaved point by point; cluster ones use every core.
  const groups = [matrix.filter((s) => s.workers === 1), matrix.filter((s) => s.workers > 1)];
  const scenarios: ScenarioResult[] = [];
  for (const group of groups.filter((g) => g.length > 0)) {
    log(`▶ ${group.map((s) => s.id).join(', ')}`);
    const results = await runScenarios(group, {
      root: ROOT,
      fixtures,
      ghz,
      protoset,
      workDir,
      callguardArgs: callguard?.args,
      goNoop,
      concurrency: opts.concurrency,
      pin: opts.pin,
      pointSeconds: opts.pointSeconds,
      warmupSeconds: opts.warmupSeconds,
      repeat: opts.repeat,
      onPoint: (id, p) =>
        log(
          `  ${id} @ ${p.targetRate === null ? 'saturation' : `${p.targetRate}/s`}: ${p.achievedRps} req/s, p50 ${p.latencyMs.p50} p99 ${p.latencyMs.p99} p99.9 ${p.latencyMs.p999} ms, server ${p.serverCores} cores${p.errors > 0 ? `, ${p.errors} errors` : ''}${p.overloaded ? ' (overloaded)' : ''}`,
        ),
    });
    for (const result of results) if (result.skipped !== undefined) log(`  ${result.id} skipped: ${result.skipped}`);
    scenarios.push(...results);
  }

  const envoy = opts.envoy
    ? await runEnvoyPath({ root: ROOT, workDir, seconds: opts.pointSeconds, log })
    : { skipped: opts.quick ? 'not part of --quick' : '--no-envoy' };
  if ('skipped' in envoy) log(`Envoy through-path skipped: ${envoy.skipped}`);

  const results: BenchResults = {
    schemaVersion: 1,
    startedAt: started.toISOString(),
    durationSeconds: Math.round((Date.now() - started.getTime()) / 1000),
    machine: machineInfo(ghz),
    settings: {
      quick: opts.quick,
      pointSeconds: opts.pointSeconds,
      warmupSeconds: opts.warmupSeconds,
      fixedRateRepeats: opts.repeat,
      ghzConcurrency: opts.concurrency,
      pinning: opts.pin ? { server: '0', loadGenerator: `1-${availableParallelism() - 1}` } : null,
      callguardRuntime: callguard?.runtime ?? null,
      decisionLogOff: '/dev/null (callguard has no off switch; records are built and discarded)',
    },
    scenarios,
    envoy,
  };
  const files = writeResults(opts.out, results);
  rmSync(workDir, { recursive: true, force: true });
  log(`wrote ${files.join(', ')}`);
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
