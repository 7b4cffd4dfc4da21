import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningAdmin, startAdminServer } from '../../../src/admin/admin-server.js';
import type { Readiness } from '../../../src/admin/readiness.js';

let readiness: Readiness = { ready: true, notReady: [] };
let scrape: () => Promise<{ contentType: string; body: string }> = async () => ({
  contentType: 'text/plain; version=0.0.4; charset=utf-8',
  body: 'callguard_up 1\n',
});
const errors: unknown[] = [];
let admin: RunningAdmin;
beforeAll(async () => {
  admin = await startAdminServer('127.0.0.1:0', { readiness: () => readiness, metrics: () => scrape(), onError: (err) => errors.push(err) });
});
afterAll(() => admin.close());

const get = async (path: string, method = 'GET') => {
  const response = await fetch(`http://${admin.address}${path}`, { method });
  return { status: response.status, type: response.headers.get('content-type'), allow: response.headers.get('allow'), body: await response.text() };
};

describe('admin listener', () => {
  it.each([
    { name: 'healthz', path: '/healthz', status: 200, body: 'ok\n' },
    { name: 'healthz with a query', path: '/healthz?verbose=1', status: 200, body: 'ok\n' },
    { name: 'metrics', path: '/metrics', status: 200, body: 'callguard_up 1\n' },
    { name: 'an unknown path', path: '/debug/pprof', status: 404, body: 'not found\n' },
    { name: 'a path below a known one', path: '/metrics/x', status: 404, body: 'not found\n' },
  ])('GET $path ($name): $status', async ({ path, status, body }) => {
    const response = await get(path);
    expect([response.status, response.body]).toEqual([status, body]);
  });

  it('serves metrics with the registry content type', async () => {
    expect((await get('/metrics')).type).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it.each([
    { name: 'ready', state: { ready: true, notReady: [] }, status: 200 },
    {
      name: 'not ready',
      state: { ready: false, notReady: [{ check: 'keys' as const, source: 'corp', problem: 'signing keys not fetched yet' }] },
      status: 503,
    },
  ])('GET /readyz when $name: $status with the judgement as JSON', async ({ state, status }) => {
    readiness = state;
    const response = await get('/readyz');
    expect(response.status).toBe(status);
    expect(response.type).toBe('application/json');
    expect(JSON.parse(response.body)).toEqual(state);
    readiness = { ready: true, notReady: [] };
  });

  it.each(['POST', 'PUT', 'DELETE', 'OPTIONS'])('%s: 405, Allow: GET, HEAD', async (method) => {
    const response = await get('/metrics', method);
    expect([response.status, response.allow]).toEqual([405, 'GET, HEAD']);
  });

  it('HEAD: the status and headers of GET, no body', async () => {
    readiness = { ready: false, notReady: [] };
    const response = await get('/readyz', 'HEAD');
    readiness = { ready: true, notReady: [] };
    expect([response.status, response.type, response.body]).toEqual([503, 'application/json', '']);
  });

  it('a scrape that fails: 500 without detail, the error reported', async () => {
    scrape = async () => {
      throw new Error('collector broke: /secret/path');
    };
    const response = await get('/metrics');
    expect([response.status, response.body]).toEqual([500, 'internal error\n']);
    expect(String(errors.at(-1))).toContain('collector broke');
  });
});

describe('startAdminServer: listening', () => {
  it('rejects with the listen error when the port is taken', async () => {
    await expect(startAdminServer(admin.address, { readiness: () => readiness, metrics: () => scrape() })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('reports an IPv6 address in brackets', async () => {
    let second: RunningAdmin | undefined;
    try {
      second = await startAdminServer('[::1]:0', { readiness: () => readiness, metrics: () => scrape() });
    } catch (err) {
      // A host without IPv6 loopback cannot run this case.
      if ((err as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL') return;
      throw err;
    }
    expect(second.address).toMatch(/^\[::1\]:\d+$/);
    await second.close();
  });
});
