/**
 * Issue 4 item 4: what Envoy and callguard add to a real HTTPS call, measured the way OPA-Envoy publishes
 * it (App Only / App and Envoy / App, Envoy and the authorizer). Uses the Envoy stack's own pieces
 * (scripts/lib, envoy/envoy.yaml, examples/) so the path measured is the one users run; when any piece, Envoy
 * or h2load is missing it returns `{ skipped: why }` instead of failing the benchmark.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse, stringify } from 'yaml';
import { type LatencyMs, percentileMs } from './ghz.js';
import { stripExtAuthz, type StackModules } from './envoy-stack.js';

export interface EnvoyCase {
  readonly label: string;
  readonly achievedRps: number;
  readonly requests: number;
  readonly non2xx: number;
  readonly latencyMs: LatencyMs;
}

export interface EnvoyPathResult {
  readonly rate: number;
  readonly seconds: number;
  readonly clients: number;
  readonly path: string;
  readonly bodyBytes: number;
  readonly envoyVersion: string;
  readonly cases: readonly EnvoyCase[];
  readonly addedByCallguardMs: { readonly p50: number; readonly p90: number; readonly p99: number };
}

export interface EnvoyPathOptions {
  readonly root: string;
  readonly workDir: string;
  readonly seconds: number;
  readonly rate?: number;
  readonly log: (line: string) => void;
}

const REQUIRED = [
  'scripts/lib/stack-config.ts',
  'scripts/lib/stack-processes.ts',
  'scripts/lib/dev-issuer.ts',
  'scripts/dev-pki.sh',
  'examples/function/server.ts',
  'envoy/envoy.yaml',
];
const CLIENTS = 10;
const PATH = '/orders';

const onPath = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

/** h2load over HTTP/1.1 (the example function speaks only HTTP/1.1, so every case uses it). */
function h2load(url: string, options: { rate: number; seconds: number; body: string; token: string; logFile: string }): EnvoyCase['latencyMs'] & { requests: number; non2xx: number; achievedRps: number } {
  execFileSync('h2load', [
    '--h1', '-c', String(CLIENTS), '--rps', String(options.rate / CLIENTS), '-D', String(options.seconds), '--warm-up-time', '1',
    '-d', options.body, '-H', `authorization: Bearer ${options.token}`, '-H', 'content-type: application/json',
    '--log-file', options.logFile, url,
  ], { stdio: 'ignore' });
  const latencies: number[] = [];
  let non2xx = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  for (const line of readFileSync(options.logFile, 'utf8').split('\n')) {
    const [start, status, micros] = line.split('\t');
    if (start === undefined || status === undefined || micros === undefined) continue;
    if (!status.startsWith('2')) non2xx++;
    latencies.push(Number(micros) * 1000);
    first = Math.min(first, Number(start));
    last = Math.max(last, Number(start));
  }
  latencies.sort((a, b) => a - b);
  const p = (q: number) => percentileMs(latencies, q);
  const achievedRps = last > first ? Math.round(latencies.length / ((last - first) / 1e6)) : 0;
  return { p50: p(50), p90: p(90), p99: p(99), p999: p(99.9), max: p(100), requests: latencies.length, non2xx, achievedRps };
}

export async function runEnvoyPath(options: EnvoyPathOptions): Promise<EnvoyPathResult | { skipped: string }> {
  const missing = REQUIRED.filter((file) => !existsSync(join(options.root, file)));
  if (missing.length > 0) return { skipped: `Envoy stack not available yet (missing ${missing.join(', ')})` };
  for (const tool of ['envoy', 'h2load']) if (!onPath(tool)) return { skipped: `${tool} not on PATH (bench/install-tools.sh)` };
  const load = async <T>(file: string) => (await import(pathToFileURL(join(options.root, file)).href)) as T;
  const stack: StackModules = {
    config: await load('scripts/lib/stack-config.ts'),
    processes: await load('scripts/lib/stack-processes.ts'),
    issuer: await load('scripts/lib/dev-issuer.ts'),
  };
  const rate = options.rate ?? 1000;
  const pki = join(options.workDir, 'pki');
  execFileSync('sh', [join(options.root, 'scripts/dev-pki.sh'), pki], { stdio: 'ignore' });
  const issuer = await stack.issuer.ensureDevIssuer(pki);
  const token = await issuer.mint({ subject: 'bench-caller', groups: ['orders-writers'] });
  const body = join(options.workDir, 'orders-body.json');
  writeFileSync(body, JSON.stringify({ sku: 'ABC-12345', quantity: 3, note: 'x'.repeat(400), card: { number: '4111111111111111', expiry: '12/29' } }));

  const stopping: (() => Promise<void>)[] = [];
  try {
    const fn = await stack.processes.startFunction({ pkiDir: pki, port: 0 });
    stopping.push(() => fn.stop());
    const ports = { envoy: 0, envoyAdmin: 0, callguard: 0, function: fn.ready };
    const decisionLog = join(options.workDir, 'envoy-decisions.log');
    const first = await stack.config.writeStackConfigs(join(options.workDir, 'stack-0'), stack.config.localLayout({ pkiDir: pki, decisionLog, ports }));
    const callguard = await stack.processes.startCallguard({ config: first.callguardConfig });
    stopping.push(() => callguard.stop());
    const layout = stack.config.localLayout({ pkiDir: pki, decisionLog, ports: { ...ports, callguard: callguard.ready } });
    const full = await stack.config.writeStackConfigs(join(options.workDir, 'stack'), layout);
    const bare = join(options.workDir, 'envoy-no-authz.yaml');
    writeFileSync(bare, stringify(stripExtAuthz(parse(readFileSync(full.envoyConfig, 'utf8')))));

    const cases: EnvoyCase[] = [];
    const measure = async (label: string, url: string): Promise<void> => {
      options.log(`  Envoy path: ${label} (${rate} req/s, ${options.seconds} s)`);
      const logFile = join(options.workDir, `h2load-${cases.length}.log`);
      const { requests, non2xx, achievedRps, ...latencyMs } = h2load(url, { rate, seconds: options.seconds, body, token, logFile });
      cases.push({ label, achievedRps, requests, non2xx, latencyMs });
    };
    await measure('App Only', `https://127.0.0.1:${fn.ready}${PATH}`);
    for (const [label, config] of [['App and Envoy', bare], ['App, Envoy and callguard', full.envoyConfig]] as const) {
      const envoy = await stack.processes.startEnvoy({ config });
      try {
        await measure(label, `https://127.0.0.1:${envoy.ready.listenPort}${PATH}`);
      } finally {
        await envoy.stop();
      }
    }
    const [, withEnvoy, withCallguard] = cases;
    const added = (key: 'p50' | 'p90' | 'p99') => Math.round(((withCallguard?.latencyMs[key] ?? Number.NaN) - (withEnvoy?.latencyMs[key] ?? Number.NaN)) * 1000) / 1000;
    return {
      rate,
      seconds: options.seconds,
      clients: CLIENTS,
      path: PATH,
      bodyBytes: readFileSync(body).length,
      envoyVersion: `Envoy ${/version: \S+?\/(\d+\.\d+\.\d+)\//.exec(stack.processes.envoyVersion() ?? '')?.[1] ?? '(unknown version)'}`,
      cases,
      addedByCallguardMs: { p50: added('p50'), p90: added('p90'), p99: added('p99') },
    };
  } catch (error) {
    return { skipped: `failed: ${error instanceof Error ? error.message.slice(0, 2000) : String(error)}` };
  } finally {
    for (const stop of stopping.reverse()) await stop().catch(() => undefined);
  }
}
