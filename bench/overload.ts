/**
 * `npm run bench:overload`: the 20-second burst of issue 8, against the built CLI. ghz with 1000 workers over
 * 100 connections asks for twice the measured saturation rate; afterwards a probe must be allowed (no restart),
 * and the decision log must account for every call: decision lines + counted refusals = calls answered.
 * Reports throughput, latency percentiles, shed share and peak RSS per durability mode, as JSON and Markdown.
 *
 *   npm run bench:overload -- [--seconds 20] [--modes written,buffered] [--out bench/results/overload.json]
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { functionPath, writeBenchConfig } from './configs.js';
import { createFixtures } from './fixtures.js';
import { buildProtoset, findGhz, percentileMs } from './ghz.js';
import { assertProbe, probeCheck } from './probe.js';
import { buildCheckRequest, writeGhzData } from './requests.js';
import { callguardCommand, launchServer } from './servers.js';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    modes: { type: 'string', default: 'written,buffered' },
    workers: { type: 'string', default: '1000' },
    connections: { type: 'string', default: '100' },
    'max-in-flight': { type: 'string' },
    out: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const workers = Number(values.workers);
const connections = Number(values.connections);
const maxInFlight = values['max-in-flight'] === undefined ? undefined : Number(values['max-in-flight']);
const modes = (values.modes ?? '').split(',') as ('written' | 'buffered' | 'fsync')[];
if (!(seconds > 0) || !(workers > 0) || !(connections > 0) || modes.some((m) => !['written', 'buffered', 'fsync'].includes(m))) {
  throw new TypeError('usage: overload.ts [--seconds N>0] [--modes written,buffered,fsync] [--workers N] [--connections N]');
}
const ghz = findGhz(root);
const command =
  callguardCommand(root) ??
  (() => {
    throw new Error('needs a built callguard (npm run build)');
  })();
if (ghz === undefined) throw new Error('needs ghz (npm run bench:tools)');

const dir = mkdtempSync(join(tmpdir(), 'callguard-overload-'));
const fixtures = await createFixtures(dir);
const [token] = await fixtures.mintTokens(1);
const spec = (sequence: number) => ({
  path: functionPath(9),
  token: token as string,
  body: fixtures.validBody,
  peerCertificate: fixtures.peerCertificate,
  sequence,
});
const dataFile = join(dir, 'requests.bin');
writeGhzData(
  dataFile,
  Array.from({ length: 64 }, (_, i) => spec(i)),
);
const protoset = buildProtoset(root, join(dir, 'auth.binpb'));

interface Outcome {
  mode: string;
  saturationRps: number;
  askedRps: number;
  achievedRps: number;
  answered: number;
  clientErrors: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  decisionLines: number;
  allowLines: number;
  refused: Record<string, number>;
  accountedFor: boolean;
  peakRssMiB: number;
  probeAfter: string;
}

async function ghzRun(address: string, args: string[]): Promise<{ rps: number; details: { latency: number; status: string }[] }> {
  const out = join(dir, 'ghz.json');
  await run(
    ghz as string,
    [
      '--insecure',
      '--protoset',
      protoset,
      '--call',
      'envoy.service.auth.v3.Authorization/Check',
      '--binary-file',
      dataFile,
      '--timeout',
      '10s',
      '--format',
      'json',
      '--output',
      out,
      ...args,
      address,
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const report = JSON.parse(readFileSync(out, 'utf8')) as { rps: number; details?: { latency: number; status: string }[] };
  rmSync(out, { force: true });
  return { rps: report.rps, details: report.details ?? [] };
}

async function measure(mode: 'written' | 'buffered' | 'fsync'): Promise<Outcome> {
  const logFile = join(dir, `${mode}.decisions.log`);
  const config = writeBenchConfig(fixtures, `overload-${mode}`, {
    functions: 10,
    decisionLog: logFile,
    durability: mode,
    ...(maxInFlight === undefined ? {} : { maxInFlight }),
  });
  const server = await launchServer({
    command: process.execPath,
    args: [...command.args, 'serve', '--config', config],
    readyMsg: 'callguard listening',
    cwd: root,
  });
  try {
    // --duration-stop wait: calls in flight at the end are answered and counted, so every decided call is in `details`.
    const saturation = await ghzRun(server.address, ['--concurrency', '50', '--connections', '4', '--duration', '5s', '--duration-stop', 'wait']);
    const asked = Math.round(saturation.rps * 2);
    let peak = server.rssBytes();
    const sampler = setInterval(() => {
      peak = Math.max(peak, server.rssBytes());
    }, 200);
    const burst = await ghzRun(server.address, [
      '--concurrency',
      String(workers),
      '--connections',
      String(connections),
      '--rps',
      String(asked),
      '--duration',
      `${seconds}s`,
      '--duration-stop',
      'wait',
    ]);
    clearInterval(sampler);
    const probe = await probeCheck(server.address, buildCheckRequest(spec(999)));
    assertProbe(`overload-${mode}`, probe, undefined);
    const satCalls = saturation.details.length;
    await server.stop();
    const lines = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const decisions = lines.filter((l) => l.msg === 'decision');
    const refused: Record<string, number> = {};
    for (const l of lines) {
      if (l.msg !== 'refused') continue;
      for (const [code, n] of Object.entries(l.counts as Record<string, number>)) refused[code] = (refused[code] ?? 0) + n;
    }
    const latencies = burst.details
      .filter((d) => d.status === 'OK')
      .map((d) => d.latency)
      .sort((a, b) => a - b);
    const answered = satCalls + latencies.length + 1; // the saturation run, the burst, the probe
    const refusedTotal = Object.values(refused).reduce((a, b) => a + b, 0);
    return {
      mode,
      saturationRps: Math.round(saturation.rps),
      askedRps: asked,
      achievedRps: Math.round(burst.rps),
      answered: latencies.length,
      clientErrors: burst.details.length - latencies.length,
      latencyMs: { p50: percentileMs(latencies, 50), p90: percentileMs(latencies, 90), p99: percentileMs(latencies, 99), max: percentileMs(latencies, 100) },
      decisionLines: decisions.length,
      allowLines: decisions.filter((d) => d.outcome === 'allow').length,
      refused,
      // Calls a client gave up on (timeouts) may still have been decided and logged: then more lines than answers.
      accountedFor: decisions.length + refusedTotal >= answered && decisions.length + refusedTotal <= answered + (burst.details.length - latencies.length),
      peakRssMiB: Math.round(peak / 1048576),
      probeAfter: 'allowed',
    };
  } finally {
    await server.stop().catch(() => {});
  }
}

const results: Outcome[] = [];
for (const mode of modes) {
  const outcome = await measure(mode);
  results.push(outcome);
  process.stderr.write(`${JSON.stringify(outcome)}\n`);
}
const table = [
  '| durability | saturation req/s | asked req/s | answered req/s | shed | p50 ms | p99 ms | max ms | peak RSS MiB | lines + refusals = answers | after the burst |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...results.map((r) => {
    const shed = Object.values(r.refused).reduce((a, b) => a + b, 0);
    return `| ${r.mode} | ${r.saturationRps} | ${r.askedRps} | ${r.achievedRps} | ${((100 * shed) / Math.max(1, r.answered)).toFixed(1)} % | ${r.latencyMs.p50} | ${r.latencyMs.p99} | ${r.latencyMs.max} | ${r.peakRssMiB} | ${r.accountedFor ? 'yes' : 'NO'} | ${r.probeAfter} |`;
  }),
].join('\n');
process.stdout.write(`${table}\n`);
if (values.out !== undefined) writeFileSync(values.out, `${JSON.stringify({ seconds, workers, connections, results }, null, 2)}\n`);
if (results.some((r) => !r.accountedFor)) process.exitCode = 1;
