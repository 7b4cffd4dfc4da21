/**
 * The example function service: answers every request with what it received, so you see exactly what
 * a function behind callguard sees (identity headers, never the caller's token).
 *
 *   tsx examples/function/server.ts --cert F --key F --ca F [--crl F] [--envoy-san S] [--host 127.0.0.1] [--port 9443]
 *   (or FUNCTION_CERT, FUNCTION_KEY, FUNCTION_CA, FUNCTION_CRL, FUNCTION_ENVOY_SAN, FUNCTION_HOST, FUNCTION_PORT)
 *
 * What every function behind callguard must do (the two places marked MUST below):
 *   callguard's decision, and the x-callguard-* identity headers Envoy sets after it, mean something
 *   only on a connection that came from Envoy. Anyone else who reaches this port could send
 *   `x-callguard-subject: admin` themselves. So the function
 *   1. requires a client certificate signed by the CA (no certificate: the TLS handshake fails), and
 *   2. accepts only Envoy's certificate among those: other workloads hold certificates from the same CA
 *      (the example billing client does), so "signed by the CA" alone is not "is Envoy". A request from
 *      any other peer gets 403 (and the connection is closed) before any function logic runs.
 *
 * Its TLS follows callguard's profile (README "TLS profile"): TLS 1.2 or 1.3, TLS 1.2 only with ECDHE
 * AEAD suites (no CBC), no client-initiated renegotiation, and with --crl a revoked client certificate
 * fails the handshake.
 *
 * When listening it prints one JSON line on stdout: {"msg":"function listening","address":"HOST:PORT"}.
 * Each refused handshake or request prints {"msg":"function refused connection","reason":...,"peer":...}.
 * With --log-requests it also prints {"msg":"function request",...} per request (the e2e tests count these).
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createServer, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { parseArgs } from 'node:util';
import { TLS_PROFILE } from '../../src/transport/tls-profile.js';

const IDENTITY_PREFIX = 'x-callguard-';
const MAX_BODY_BYTES = 1024 * 1024;
/** Envoy's client certificate (scripts/dev-pki.sh `envoy-client`), as Node prints a SAN entry. */
const ENVOY_SAN = 'URI:spiffe://example.org/ns/edge/sa/envoy';

const { values } = parseArgs({
  options: {
    cert: { type: 'string', default: process.env['FUNCTION_CERT'] },
    key: { type: 'string', default: process.env['FUNCTION_KEY'] },
    ca: { type: 'string', default: process.env['FUNCTION_CA'] },
    crl: { type: 'string', default: process.env['FUNCTION_CRL'] },
    'envoy-san': { type: 'string', default: process.env['FUNCTION_ENVOY_SAN'] ?? ENVOY_SAN },
    host: { type: 'string', default: process.env['FUNCTION_HOST'] ?? '127.0.0.1' },
    port: { type: 'string', default: process.env['FUNCTION_PORT'] ?? '9443' },
    'log-requests': { type: 'boolean', default: process.env['FUNCTION_LOG_REQUESTS'] === '1' },
  },
  strict: true,
});
if (values.cert === undefined || values.key === undefined || values.ca === undefined) {
  process.stderr.write('function: --cert, --key and --ca (or FUNCTION_CERT, FUNCTION_KEY, FUNCTION_CA) are required\n');
  process.exit(2);
}
const envoySan = values['envoy-san'];

const tls: ServerOptions = {
  cert: readFileSync(values.cert),
  key: readFileSync(values.key),
  // TLS 1.2 (Envoy's default towards upstreams) or 1.3; for 1.2 only ECDHE with AEAD: no CBC suite, so
  // no padding oracle (Lucky13), and forward secrecy. TLS 1.3's three suites are all AEAD.
  minVersion: 'TLSv1.2',
  ciphers: TLS_PROFILE.nodeCiphers.join(':'),
  honorCipherOrder: true,
  ALPNProtocols: ['http/1.1'],
  // MUST (1): mutual TLS. No certificate, or one not signed by this CA: the handshake fails.
  ca: readFileSync(values.ca),
  ...(values.crl !== undefined ? { crl: readFileSync(values.crl) } : {}),
  requestCert: true,
  rejectUnauthorized: true,
};

/** What the function saw: the caller's identity as callguard stated it, and whether a token leaked. */
interface Echo {
  readonly function: string;
  readonly method: string;
  readonly identity: Record<string, string>;
  readonly authorizationHeaderPresent: boolean;
  /** A DPoP proof is a credential too: callguard removes it with the token. */
  readonly dpopHeaderPresent: boolean;
  /** Method-override headers that reached the function (callguard removes them: none should). */
  readonly methodOverrideHeaders: readonly string[];
  /** Set by Envoy from the real connection (a caller's value is overwritten). */
  readonly forwardedProto: string | undefined;
  /** Envoy sanitizes a caller's x-forwarded-client-cert: this stays false. */
  readonly clientCertHeaderPresent: boolean;
  readonly bodyBytes: number;
  readonly body: string;
}

const refused = (reason: string, peer: string) => process.stdout.write(`${JSON.stringify({ msg: 'function refused connection', reason, peer })}\n`);

/**
 * MUST (2): only Envoy. The certificate is already verified against the CA; its SANs must include
 * Envoy's (an exact entry: Node quotes a SAN value containing a separator, so none can smuggle it in).
 * Checked on every request, before any function logic runs (in a framework: the first middleware).
 * Closing the connection in a `secureConnection` listener is NOT enough: Node may already have parsed
 * and dispatched a request that arrived together with the end of the handshake.
 */
function peerIsEnvoy(req: IncomingMessage): boolean {
  const socket = req.socket as TLSSocket;
  const sans = socket.getPeerCertificate().subjectaltname ?? '';
  if (socket.authorized && sans.split(', ').includes(envoySan)) return true;
  refused('client certificate is not Envoy', sans);
  return false;
}

const server = createServer(tls, (req, res) => {
  if (!peerIsEnvoy(req)) {
    res.writeHead(403, { connection: 'close', 'content-length': 0 });
    res.end();
    return;
  }
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
      dpopHeaderPresent: req.headers.dpop !== undefined,
      methodOverrideHeaders: ['x-http-method-override', 'x-http-method', 'x-method-override'].filter((name) => req.headers[name] !== undefined),
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

// Say why a handshake failed (no certificate, a certificate from another CA).
server.on('tlsClientError', (err: NodeJS.ErrnoException) => refused(err.code ?? err.message, ''));

// No client-initiated renegotiation (TLS 1.2; 1.3 has none): Node would allow 3 in 10 minutes, each a
// full handshake the client can make the server pay for, and a way to change the peer certificate
// under a connection that was already judged. A client asking for one is disconnected.
server.on('secureConnection', (socket: TLSSocket) => socket.disableRenegotiation());

server.listen(Number(values.port), values.host, () => {
  const { address, port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ msg: 'function listening', address: `${address}:${port}` })}\n`);
});

// With --log-requests, SIGUSR2 prints {"msg":"function sync","n":N} (N: signals handled so far): a
// request's line is written before its response, so once a test that holds the response sees a later
// sync line, that request's line is in.
let syncs = 0;
if (values['log-requests']) process.on('SIGUSR2', () => process.stdout.write(`{"msg":"function sync","n":${++syncs}}\n`));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
