/**
 * Added latency of callguard on the path: p50/p99 of an allowed call through Envoy + callguard versus
 * the same call through Envoy alone (the same rendered config minus the ext_authz filter), both to the
 * same example function over TLS. Sequential requests on one keep-alive HTTPS connection.
 *
 *   tsx scripts/stack-latency.ts [--requests 2000] [--warmup 200]
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { startEnvoy } from './lib/stack-processes.js';
import { startStack } from './lib/start-stack.js';

const { values } = parseArgs({
  options: { requests: { type: 'string', default: '2000' }, warmup: { type: 'string', default: '200' } },
  strict: true,
});
const total = Number(values.requests);
const warmup = Number(values.warmup);

const dir = await mkdtemp(path.join(tmpdir(), 'callguard-latency-'));
const stack = await startStack({
  pkiDir: path.join(dir, 'pki'),
  configDir: dir,
  ports: { envoy: 0, envoyAdmin: 0, callguard: 0, function: 0 },
  decisionLog: path.join(dir, 'decisions.log'),
});
try {
  const bareConfig = path.join(dir, 'envoy-without-ext-authz.yaml');
  await writeFile(bareConfig, withoutExtAuthz(readFileSync(stack.envoyConfig, 'utf8')));
  const bare = await startEnvoy({ config: bareConfig });
  try {
    const token = await stack.issuer.mint({ subject: 'bench', groups: ['orders-readers'], ttlSeconds: 3600 });
    const ca = readFileSync(path.join(stack.pkiDir, 'ca.crt'));
    const results = {
      'envoy alone': await measure(bare.ready.listenPort, ca, token),
      'envoy + callguard': await measure(stack.envoyPort, ca, token),
    };
    process.stdout.write(`GET /orders/{id} (allowed, cached token), ${total} sequential requests after ${warmup} warm-up\n`);
    for (const [name, samples] of Object.entries(results)) {
      process.stdout.write(
        `${name.padEnd(18)} p50 ${ms(pct(samples, 50))}  p99 ${ms(pct(samples, 99))}  mean ${ms(samples.reduce((a, b) => a + b, 0) / samples.length)}\n`,
      );
    }
  } finally {
    await bare.stop();
  }
} finally {
  await stack.stop();
  await rm(dir, { recursive: true, force: true });
}

/** Drop the ext_authz filter and its per-route settings; everything else stays as rendered. */
function withoutExtAuthz(text: string): string {
  interface Hcm {
    http_filters: Array<{ name: string }>;
    route_config: { virtual_hosts: Array<{ routes: Array<{ typed_per_filter_config?: unknown }> }> };
  }
  const config = parse(text) as {
    static_resources: { listeners: Array<{ filter_chains: Array<{ filters: Array<{ typed_config: Hcm }> }> }> };
  };
  const hcm = config.static_resources.listeners[0]?.filter_chains[0]?.filters[0]?.typed_config;
  if (hcm === undefined) throw new TypeError('rendered envoy.yaml has no HTTP connection manager');
  hcm.http_filters = hcm.http_filters.filter((f) => f.name !== 'envoy.filters.http.ext_authz');
  for (const host of hcm.route_config.virtual_hosts) for (const route of host.routes) delete route.typed_per_filter_config;
  return stringify(config);
}

async function measure(port: number, ca: Buffer, token: string): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca, servername: 'envoy' });
  const samples: number[] = [];
  for (let i = 0; i < warmup + total; i++) {
    const start = process.hrtime.bigint();
    const status = await get(agent, port, `/orders/${i}`, token);
    if (status !== 200) throw new Error(`unexpected status ${status}`);
    if (i >= warmup) samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  agent.destroy();
  return samples.sort((a, b) => a - b);
}

function get(agent: Agent, port: number, urlPath: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: urlPath, agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function ms(value: number): string {
  return `${value.toFixed(2)} ms`;
}
