import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { splitListen } from './admin-address.js';
import type { Readiness } from './readiness.js';

/** What the admin endpoints answer with. */
export interface AdminRoutes {
  readiness(): Readiness;
  /** The Prometheus exposition and its content type. */
  metrics(): Promise<{ readonly contentType: string; readonly body: string }>;
  /** A scrape that failed (the client sees a bare 500). */
  onError?(err: unknown): void;
}

export interface RunningAdmin {
  /** `host:port` actually bound (port 0 resolved). */
  readonly address: string;
  /** Stops listening and closes open connections (a scraper's keep-alive must not hold up the exit). */
  close(): Promise<void>;
}

/** Slow or idle clients are cut off: probes and scrapes are small, quick requests. */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * The operator's HTTP listener (node:http): `GET /healthz` (200 while the process runs),
 * `GET /readyz` (200, or 503 with a JSON body naming what is not ready), `GET /metrics`
 * (Prometheus). HEAD as GET without a body (RFC 9110 §9.3.2); other methods 405, other paths 404.
 * Rejects when it cannot listen (the error from `listen`, e.g. EADDRINUSE).
 */
export async function startAdminServer(listen: string, routes: AdminRoutes): Promise<RunningAdmin> {
  const server = createServer((req, res) => void answer(req, res, routes));
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = REQUEST_TIMEOUT_MS;
  const { host, port } = splitListen(listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    address: `${host.includes(':') ? `[${host}]` : host}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function answer(req: IncomingMessage, res: ServerResponse, routes: AdminRoutes): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', { allow: 'GET, HEAD' });
    return;
  }
  const path = (req.url ?? '').split('?', 1)[0];
  try {
    if (path === '/healthz') send(res, 200, 'text/plain; charset=utf-8', 'ok\n');
    else if (path === '/readyz') {
      const readiness = routes.readiness();
      send(res, readiness.ready ? 200 : 503, 'application/json', `${JSON.stringify(readiness)}\n`);
    } else if (path === '/metrics') {
      const { contentType, body } = await routes.metrics();
      send(res, 200, contentType, body);
    } else send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  } catch (err) {
    routes.onError?.(err);
    if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  // Never cached: each probe and scrape must see the state now.
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...headers });
  // Node sends no body for HEAD, whatever is passed here.
  res.end(body);
}
