/**
 * The HTTPS load of the Envoy through-path: vegeta (Go) at a constant request rate. vegeta rather than h2load
 * or wrk because the example function only accepts Envoy's client certificate (mTLS), and "App Only" must
 * present it; h2load and wrk cannot send a client certificate. vegeta is also open-loop: a slow response does
 * not delay the next request, so queueing shows up in the latencies instead of hiding in a lower rate.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { EnvoyCase } from './envoy-path.js';
import { percentileMs } from './ghz.js';

const runFile = promisify(execFile);
/** A fresh Envoy and callguard need a few thousand calls before their latency settles (JIT, connections). */
export const WARM_UP_SECONDS = 3;

/** Finds vegeta: `$VEGETA`, then bench/.tools/bin/vegeta (install-tools.sh), then PATH. */
export function findVegeta(root: string): string | undefined {
  for (const candidate of [process.env.VEGETA, join(root, 'bench/.tools/bin/vegeta')]) {
    if (candidate !== undefined && existsSync(candidate)) return candidate;
  }
  for (const dir of (process.env.PATH ?? '').split(':')) if (existsSync(join(dir, 'vegeta'))) return join(dir, 'vegeta');
  return undefined;
}

export interface HttpsLoad {
  readonly vegeta: string;
  readonly url: string;
  readonly rate: number;
  readonly seconds: number;
  readonly body: string;
  readonly token: string;
  readonly caFile: string;
  /** Client certificate and key to present (the function demands Envoy's), or undefined for none. */
  readonly clientCert?: { readonly cert: string; readonly key: string } | undefined;
  readonly workDir: string;
}

export type HttpsLoadResult = EnvoyCase['latencyMs'] & { requests: number; non2xx: number; achievedRps: number };

/**
 * `WARM_UP_SECONDS` of the same load (discarded), then the measured run. Asynchronous on purpose: this process drains the stack's
 * stdout pipes (Envoy's access log, the function's request lines); a blocked event loop would fill those
 * pipes and stall the very processes being measured.
 */
export async function runHttpsLoad(load: HttpsLoad): Promise<HttpsLoadResult> {
  const targets = join(load.workDir, 'vegeta-targets.txt');
  writeFileSync(targets, `POST ${load.url}\n`);
  const results = join(load.workDir, 'vegeta-results.bin');
  const attack = (seconds: number) => [
    'attack',
    '-targets',
    targets,
    '-rate',
    `${load.rate}/1s`,
    '-duration',
    `${seconds}s`,
    '-http2=false',
    '-workers',
    '20',
    // Past this many in flight the rate slips (and shows as a lower achieved rate) instead of opening a
    // connection storm that would measure TLS handshakes rather than the path.
    '-max-workers',
    '200',
    '-body',
    load.body,
    '-header',
    `authorization: Bearer ${load.token}`,
    '-header',
    'content-type: application/json',
    '-root-certs',
    load.caFile,
    ...(load.clientCert === undefined ? [] : ['-cert', load.clientCert.cert, '-key', load.clientCert.key]),
    '-output',
    results,
  ];
  await runFile(load.vegeta, attack(WARM_UP_SECONDS));
  await runFile(load.vegeta, attack(load.seconds));
  const { stdout } = await runFile(load.vegeta, ['encode', '--to', 'csv', results], { maxBuffer: 256 * 1024 * 1024 });
  const latencies: number[] = [];
  let non2xx = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  for (const line of stdout.split('\n')) {
    // timestamp (unix ns), status code (0 = transport error), latency (ns), …
    const [start, status, nanos] = line.split(',');
    if (start === undefined || status === undefined || nanos === undefined || start === '') continue;
    if (!status.startsWith('2')) non2xx++;
    latencies.push(Number(nanos));
    first = Math.min(first, Number(start));
    last = Math.max(last, Number(start));
  }
  latencies.sort((a, b) => a - b);
  const p = (q: number) => percentileMs(latencies, q);
  const achievedRps = last > first ? Math.round(latencies.length / ((last - first) / 1e9)) : 0;
  return { p50: p(50), p90: p(90), p99: p(99), p999: p(99.9), max: p(100), requests: latencies.length, non2xx, achievedRps };
}

/** Percentiles of `latencyUs` over the decision-log lines appended after byte `offset`. */
export function decisionLatencies(file: string, offset: number): EnvoyCase['decisionUs'] {
  if (!existsSync(file)) return undefined;
  const latencies = readFileSync(file)
    .subarray(offset)
    .toString('utf8')
    .split('\n')
    .map((line) => /"latencyUs":(\d+)/.exec(line)?.[1])
    .filter((value): value is string => value !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  if (latencies.length === 0) return undefined;
  const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.ceil((q / 100) * latencies.length) - 1)] ?? Number.NaN;
  return { p50: p(50), p90: p(90), p99: p(99) };
}
