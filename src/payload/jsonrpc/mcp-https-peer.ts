import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { Agent, type RequestOptions, request } from 'node:https';
import { isIP } from 'node:net';
import { type ConnectionOptions, checkServerIdentity, type PeerCertificate, type SecureContext } from 'node:tls';
import { printableAscii } from '../../printable-ascii.js';

/**
 * HTTPS exchanges with one MCP server, over sockets that cannot outlive the listing: node:https with a
 * private keep-alive Agent (one socket, reused between the steps), destroyed with every request and
 * response still open by `close()` or when `signal` aborts. Not global fetch: Node 20's fetch cannot
 * take a CA of its own.
 *
 * The server's certificate must chain to the CA in `secureContext` (no system store) and carry `name`
 * (the configured serverName, or the URL's host) as a subjectAltName: DNS name or IP address, checked
 * with node:tls `checkServerIdentity`, which ignores the subject CN once any SAN is present; a
 * certificate without SANs is refused outright (RFC 9110 §4.3.4 names the SAN as the identity).
 */
export interface McpHttpsPeer {
  /**
   * Sends one request; resolves with the response (headers read, body not) or rejects with a
   * TransportFailure (refused, reset, TLS refused) or the signal's reason.
   */
  send(method: 'POST' | 'DELETE', headers: OutgoingHttpHeaders, body?: string): Promise<IncomingMessage>;
  /** A TLS handshake with the server has completed (the failure came after connecting). */
  readonly connected: boolean;
  /** Destroys every socket, request and response; idempotent. */
  close(): void;
}

/** A connection-level failure before any response: `why` is log-safe (error code and Node's message). */
export class TransportFailure {
  constructor(readonly why: string) {}
}

export function createMcpHttpsPeer(url: URL, secureContext: SecureContext, name: string, signal: AbortSignal): McpHttpsPeer {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const open = new Set<{ destroy(): unknown }>();
  let connected = false;
  // SNI carries DNS names only (RFC 6066 §3); for an IP address the empty string stops Node's Agent
  // from deriving one, and the identity check below still holds the certificate to the address.
  const servername = isIP(name) === 0 ? name : '';
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const closeAll = (): void => {
    for (const item of open) item.destroy();
    open.clear();
    agent.destroy();
  };
  signal.addEventListener('abort', closeAll, { once: true });

  return {
    get connected() {
      return connected;
    },
    send(method, headers, body) {
      return new Promise((resolve, reject) => {
        if (signal.aborted) {
          reject(signal.reason);
          return;
        }
        // The Agent hands these to tls.connect, which takes a prepared `secureContext` (@types/node omits it here).
        const options: RequestOptions & Pick<ConnectionOptions, 'secureContext'> = {
          hostname,
          port: url.port === '' ? 443 : Number(url.port),
          path: url.pathname + url.search,
          method,
          headers,
          agent,
          secureContext,
          servername,
          rejectUnauthorized: true,
          checkServerIdentity: (_host: string, cert: PeerCertificate) =>
            cert.subjectaltname ? checkServerIdentity(name, cert) : new Error('the certificate has no subjectAltName'),
        };
        const req = request(options);
        open.add(req);
        // Settles the promise on abort even if the destroyed request emits nothing more.
        const onAbort = (): void => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        req.on('socket', (socket) => {
          if (req.reusedSocket) return;
          socket.once('secureConnect', () => {
            connected = true;
          });
        });
        req.on('response', (res) => {
          open.add(res);
          res.on('close', () => open.delete(res));
          resolve(res);
        });
        req.on('close', () => {
          open.delete(req);
          signal.removeEventListener('abort', onAbort);
        });
        req.on('error', (err: NodeJS.ErrnoException) => {
          reject(signal.aborted ? signal.reason : new TransportFailure(describeTransportError(err)));
        });
        req.end(body);
      });
    },
    close() {
      signal.removeEventListener('abort', closeAll);
      closeAll();
    },
  };
}

/** `CODE (message)`: Node's TLS messages name the certificate's SANs, never a body. */
export function describeTransportError(err: NodeJS.ErrnoException): string {
  const message = printableAscii(err.message);
  return err.code === undefined ? message : `${err.code} (${message})`;
}
