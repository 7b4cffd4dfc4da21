import { readFileSync } from 'node:fs';
import { connect as connectH2, type Settings } from 'node:http2';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { adminGet } from '../../scripts/lib/stack-processes.js';
import { describeWithEnvoy } from '../helpers/stack-envoy.js';
import type { TestStack } from '../helpers/stack-harness.js';
import { startTestStack } from '../helpers/stack-harness.js';
import { decisionsFor, readDecisions, send } from '../helpers/stack-http.js';

const ORDER = { sku: 'ABC-123', quantity: 1, card: { number: '4111111111111111', expiry: '12/30' } };

describeWithEnvoy('e2e: Envoy edge limits and access log', () => {
  let stack: TestStack;
  let token: string;

  beforeAll(async () => {
    stack = await startTestStack();
    token = await stack.issuer.mint({ subject: 'alice', groups: ['orders-writers', 'orders-readers'] });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('the access log records the path without its query string', async () => {
    const res = await send(stack, { path: '/orders/17?api_key=s3cr3t-in-query&email=a%40b.example', token });
    expect(res.status).toBe(200);
    // The stack's Envoy flushes its access log every 250 ms: wait (bounded) for this request's line.
    const deadline = Date.now() + 5000;
    let line: string | undefined;
    while (line === undefined && Date.now() < deadline) {
      line = stack.envoy
        .output()
        .split('\n')
        .find((l) => l.includes(res.requestId) && l.startsWith('['));
      if (line === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    expect(line).toContain('"GET /orders/17 HTTP/1.1" 200');
    expect(stack.envoy.output()).not.toContain('s3cr3t-in-query');
    expect(stack.envoy.output()).not.toContain('a%40b.example');
  });

  it('request headers over 32 KiB get 431 from Envoy itself; callguard is never asked', async () => {
    // Barrier: lines land in decision order, so once this call's line is in, every earlier one is too.
    const before = await send(stack, { path: '/orders/3', token });
    expect(await decisionsFor(stack, before.requestId)).toHaveLength(1);
    const reached = (await stack.fn.settled()).length;
    const logged = (await readDecisions(stack)).length;
    // 40 KiB: over the new 32 KiB limit, under Envoy's 60 KiB default (which would ask callguard).
    const res = await send(stack, { path: '/orders/1', token, headers: { 'x-padding': 'a'.repeat(40 * 1024) } });
    expect(res.status).toBe(431);
    // A later decided call is logged; the 431 before it left no decision line at all.
    const marker = await send(stack, { path: '/orders/2', token, headers: { 'x-padding': 'a'.repeat(8 * 1024) } });
    expect(marker.status).toBe(200);
    expect(await decisionsFor(stack, marker.requestId)).toHaveLength(1);
    expect((await readDecisions(stack)).length).toBe(logged + 1);
    expect((await stack.fn.settled()).length).toBe(reached + 1);
  });

  it('a body over the 32 KiB connection buffer still reaches callguard whole (its limit is 64 KiB)', async () => {
    const res = await send(stack, { method: 'POST', path: '/orders', token, body: JSON.stringify({ ...ORDER, note: 'x'.repeat(50 * 1024) }) });
    // Decided by callguard on the whole body (note exceeds the schema's maxLength), not cut off by Envoy.
    expect(res.status).toBe(400);
    expect(await decisionsFor(stack, res.requestId)).toMatchObject([{ function: 'orders.create', outcome: 'deny', code: 'ERR_BODY_SCHEMA' }]);
  });

  it('HTTP/2: Envoy announces at most 100 concurrent streams and a 64 KiB stream window', async () => {
    const ca = readFileSync(path.join(stack.pkiDir, 'ca.crt'));
    const session = connectH2(`https://127.0.0.1:${stack.envoyPort}`, { ca, servername: 'envoy' });
    try {
      const settings = await new Promise<Settings>((resolve, reject) => {
        session.once('remoteSettings', resolve);
        session.once('error', reject);
      });
      expect(settings.maxConcurrentStreams).toBe(100);
      expect(settings.initialWindowSize).toBe(65536);
    } finally {
      session.close();
    }
  });

  it('the running Envoy has the timeouts, buffer limit and overload manager configured', async () => {
    const dump = JSON.parse(await adminGet(stack.envoy.ready.adminAddress, '/config_dump')) as { configs: unknown[] };
    const byType = (suffix: string) => dump.configs.find((c) => String(dig(c, '@type')).endsWith(suffix));
    const bootstrap = dig(byType('BootstrapConfigDump'), 'bootstrap');
    expect(dig(bootstrap, 'admin', 'address', 'socket_address', 'address')).toBe('127.0.0.1');
    expect(dig(bootstrap, 'overload_manager', 'resource_monitors')).toMatchObject([
      { name: 'envoy.resource_monitors.fixed_heap' },
      { name: 'envoy.resource_monitors.global_downstream_max_connections' },
    ]);
    const listener = dig(byType('ListenersConfigDump'), 'static_listeners', 0, 'listener');
    expect(dig(listener, 'per_connection_buffer_limit_bytes')).toBe(32768);
    const hcm = dig(listener, 'filter_chains', 0, 'filters', 0, 'typed_config');
    expect(hcm).toMatchObject({
      max_request_headers_kb: 32,
      request_headers_timeout: '10s',
      stream_idle_timeout: '30s',
      common_http_protocol_options: { idle_timeout: '300s', headers_with_underscores_action: 'REJECT_REQUEST' },
      http2_protocol_options: { max_concurrent_streams: 100, initial_stream_window_size: 65536, initial_connection_window_size: 1048576 },
    });
  });
});

/** `value[k0][k1]...`, or undefined as soon as a step is missing (for Envoy's JSON config dump). */
function dig(value: unknown, ...keys: Array<string | number>): unknown {
  let current = value;
  for (const key of keys) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}
