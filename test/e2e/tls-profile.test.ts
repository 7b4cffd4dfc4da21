import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type StackProcess, startProcess } from '../../scripts/lib/process.js';
import { freePort } from '../helpers/local-process.js';
import { issueLeaf, type LeafOptions, revokeLeaf } from '../helpers/pki-files.js';
import { describeWithEnvoy } from '../helpers/stack-envoy.js';
import { createPki, startTestStack, type TestStack } from '../helpers/stack-harness.js';
import { decisionsFor, send } from '../helpers/stack-http.js';
import { AEAD_TLS12_OFFERS, type ProbeRow, probeTls, REFUSED_OFFERS, TLS13_OFFER } from '../helpers/tls-probe.js';

type Json = Record<string, unknown>;

/** The SANs Envoy's `function` cluster accepts: every upstream below has the right CA and the right name. */
const FUNCTION_SAN = 'DNS:function,DNS:localhost,IP:127.0.0.1';

/**
 * Function certificates swapped in behind Envoy's `function` cluster (a copy of it per row, same TLS
 * settings). Each is served by `openssl s_server` at security level 0, standing in for a function that
 * was handed a bad certificate: Node refuses to even load a SHA-1-signed one.
 */
const UPSTREAMS: ReadonlyArray<{ name: string; leaf: Partial<LeafOptions>; revoked?: boolean; status: number; reason?: RegExp }> = [
  { name: 'p256-sha256', leaf: {}, status: 200 },
  // Refused by signature_algorithms (ECDSA only): an RSA key has nothing it may sign the handshake with.
  { name: 'rsa1024', leaf: { key: 'rsa-1024' }, status: 503, reason: /HANDSHAKE_FAILURE/ },
  { name: 'rsa2048', leaf: { key: 'rsa-2048' }, status: 503, reason: /HANDSHAKE_FAILURE/ },
  { name: 'rsa1024-sha1', leaf: { key: 'rsa-1024', digest: 'sha1' }, status: 503, reason: /HANDSHAKE_FAILURE/ },
  // Envoy 1.40 verifies a SHA-1 signature from a trusted CA: no setting refuses it (README "TLS profile").
  // Pinned here so that the day Envoy refuses it, this row fails and the README is corrected.
  { name: 'p256-sha1', leaf: { digest: 'sha1' }, status: 200 },
  // What does refuse one in service: revoking it (the dev CA's ca.crl is on every validation context).
  { name: 'p256-sha1-revoked', leaf: { digest: 'sha1' }, revoked: true, status: 503, reason: /certificate_revoked/ },
  { name: 'p256-revoked', leaf: {}, revoked: true, status: 503, reason: /certificate_revoked/ },
];

/** Route calls carrying `x-test-upstream: NAME` to a copy of the `function` cluster pointing at `port`. */
function addUpstream(config: Json, name: string, port: number): void {
  const resources = config['static_resources'] as { clusters: Json[]; listeners: Json[] };
  const fn = resources.clusters.find((c) => c['name'] === 'function');
  const cluster = structuredClone(fn) as Json;
  cluster['name'] = `upstream-${name}`;
  cluster['load_assignment'] = {
    cluster_name: cluster['name'],
    endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }],
  };
  resources.clusters.push(cluster);
  const listener = resources.listeners[0] as { filter_chains: Array<{ filters: Array<{ typed_config: Json }> }> };
  const hcm = listener.filter_chains[0]?.filters[0]?.typed_config as { route_config: { virtual_hosts: Array<{ routes: Json[] }> } };
  hcm.route_config.virtual_hosts[0]?.routes.unshift({
    match: { prefix: '/', headers: [{ name: 'x-test-upstream', string_match: { exact: name } }] },
    route: { cluster: cluster['name'] },
  });
}

function startUpstream(pkiDir: string, name: string, port: number): Promise<StackProcess<true>> {
  const file = (ext: string) => path.join(pkiDir, `upstream-${name}.${ext}`);
  return startProcess({
    name: `s_server ${name}`,
    command: 'openssl',
    args: ['s_server', '-www', '-accept', `127.0.0.1:${port}`, '-cert', file('crt'), '-key', file('key'), '-cipher', 'ALL:@SECLEVEL=0'],
    ready: (line) => (line.startsWith('ACCEPT') ? true : undefined),
  });
}

describeWithEnvoy('e2e: TLS profile — Envoy refuses weak and revoked certificates', () => {
  let dir: string;
  let pkiDir: string;
  let stack: TestStack;
  let token: string;
  const upstreams: Array<StackProcess<true>> = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'callguard-tls-'));
    pkiDir = path.join(dir, 'pki');
    createPki(pkiDir);
    const ports = new Map<string, number>();
    for (const upstream of UPSTREAMS) {
      issueLeaf(pkiDir, `upstream-${upstream.name}`, { days: 2, san: FUNCTION_SAN, ...upstream.leaf });
      if (upstream.revoked) revokeLeaf(pkiDir, `upstream-${upstream.name}`);
      const port = await freePort();
      ports.set(upstream.name, port);
      upstreams.push(await startUpstream(pkiDir, upstream.name, port));
    }
    // The example workload's identity, revoked: Envoy's listener must refuse it.
    issueLeaf(pkiDir, 'client-revoked', { days: 2, san: 'URI:spiffe://example.org/ns/default/sa/billing' });
    revokeLeaf(pkiDir, 'client-revoked');
    stack = await startTestStack({
      pkiDir,
      customizeEnvoy: (config) => {
        for (const [name, port] of ports) addUpstream(config, name, port);
      },
    });
    token = await stack.issuer.mint({ subject: 'alice', groups: ['orders-readers'] });
  });
  afterAll(async () => {
    await stack?.stop();
    for (const upstream of upstreams) await upstream.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Envoy's access-log line for a request (flushed every 250 ms by the stack: bounded wait). */
  async function accessLogLine(requestId: string): Promise<string> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const line = stack.envoy
        .output()
        .split('\n')
        .find((l) => l.includes(requestId) && l.startsWith('['));
      if (line !== undefined || Date.now() > deadline) return line ?? '';
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it.each(UPSTREAMS)('function certificate $name → $status', async ({ name, status, reason }) => {
    const res = await send(stack, { path: '/orders/1', token, headers: { 'x-test-upstream': name } });
    expect(res.status).toBe(status);
    // callguard allowed the call either way: only Envoy's access log says the function was refused.
    expect(await decisionsFor(stack, res.requestId)).toMatchObject([{ function: 'orders.get', outcome: 'allow', status: 200 }]);
    const line = await accessLogLine(res.requestId);
    if (status === 200) {
      expect(line).toMatch(/" 200 - .*"-"$/);
    } else {
      // RESPONSE_FLAGS UF (upstream connection failure), then UPSTREAM_TRANSPORT_FAILURE_REASON.
      expect(line).toMatch(/" 503 UF /);
      expect(line).toMatch(reason as RegExp);
    }
  });

  it('a revoked client certificate is refused at the listener; the same identity unrevoked is allowed', async () => {
    const charge = JSON.stringify({ orderId: 'o-1', amountCents: 1250, currency: 'EUR' });
    await expect(send(stack, { method: 'POST', path: '/billing/charge', clientCert: 'client-revoked', body: charge })).rejects.toThrow(
      /certificate revoked|CERTIFICATE_REVOKED/i,
    );
    const ok = await send(stack, { method: 'POST', path: '/billing/charge', clientCert: true, body: charge });
    expect(ok.status).toBe(200);
  });

  it.each([
    TLS13_OFFER,
    ...AEAD_TLS12_OFFERS,
    ...REFUSED_OFFERS,
    { name: 'TLS 1.2 with SHA-1 signatures only', options: { maxVersion: 'TLSv1.2', sigalgs: 'ECDSA+SHA1:RSA+SHA1' }, ok: false },
  ] satisfies ProbeRow[])('the listener: $name → handshake ok: $ok', async ({ options, ok }) => {
    const result = await probeTls(stack.envoyPort, { servername: 'envoy', rejectUnauthorized: false, ...options });
    expect(result.ok, JSON.stringify(result)).toBe(ok);
  });
});
