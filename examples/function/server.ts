/**
 * The example function service: HTTPS only, answers every request with what it received, so you see
 * exactly what a function behind callguard sees (identity headers, never the caller's token).
 *
 *   tsx examples/function/server.ts --cert F --key F [--host 127.0.0.1] [--port 9443]
 *   (or FUNCTION_CERT, FUNCTION_KEY, FUNCTION_HOST, FUNCTION_PORT)
 *
 * When listening it prints one JSON line on stdout: {"msg":"function listening","address":"HOST:PORT"}.
 * With --log-requests it also prints {"msg":"function request",...} per request (the e2e tests count these).
 */
import { readFileSync } from 'node:fs';
import { createServer, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

const IDENTITY_PREFIX = 'x-callguard-';
const MAX_BODY_BYTES = 1024 * 1024;

const { values } = parseArgs({
  options: {
    cert: { type: 'string', default: process.env['FUNCTION_CERT'] },
    key: { type: 'string', default: process.env['FUNCTION_KEY'] },
    host: { type: 'string', default: process.env['FUNCTION_HOST'] ?? '127.0.0.1' },
    port: { type: 'string', default: process.env['FUNCTION_PORT'] ?? '9443' },
    'log-requests': { type: 'boolean', default: process.env['FUNCTION_LOG_REQUESTS'] === '1' },
  },
  strict: true,
});
if (values.cert === undefined || values.key === undefined) {
  process.stderr.write('function: --cert and --key (or FUNCTION_CERT, FUNCTION_KEY) are required\n');
  process.exit(2);
}

const tls: ServerOptions = {
  cert: readFileSync(values.cert),
  key: readFileSync(values.key),
  minVersion: 'TLSv1.2',
  ALPNProtocols: ['http/1.1'],
};

/** What the function saw: the caller's identity as callguard stated it, and whether a token leaked. */
interface Echo {
  readonly function: string;
  readonly method: string;
  readonly identity: Record<string, string>;
  readonly authorizationHeaderPresent: boolean;
  /** Set by Envoy from the real connection (a caller's value is overwritten). */
  readonly forwardedProto: string | undefined;
  /** Envoy sanitizes a caller's x-forwarded-client-cert: this stays false. */
  readonly clientCertHeaderPresent: boolean;
  readonly bodyBytes: number;
  readonly body: string;
}

const server = createServer(tls, (req, res) => {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  });
  req.on('end', () => {
    const identity: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (name.startsWith(IDENTITY_PREFIX) && value !== undefined) identity[name] = String(value);
    }
    const echo: Echo = {
      function: req.url ?? '',
      method: req.method ?? '',
      identity,
      authorizationHeaderPresent: req.headers.authorization !== undefined,
      forwardedProto: req.headers['x-forwarded-proto']?.toString(),
      clientCertHeaderPresent: req.headers['x-forwarded-client-cert'] !== undefined,
      bodyBytes: size,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    if (values['log-requests']) {
      process.stdout.write(`${JSON.stringify({ msg: 'function request', ...echo, body: undefined })}\n`);
    }
    const payload = JSON.stringify(echo);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
  });
});

server.listen(Number(values.port), values.host, () => {
  const { address, port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ msg: 'function listening', address: `${address}:${port}` })}\n`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
