import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type ServerOptions } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { EventStore } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';

/** One HTTP request a peer received: method, headers and the JSON-RPC method of its body, if any. */
export interface SeenRequest {
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  readonly rpcMethod: string | undefined;
  readonly params: unknown;
}

export type PeerHandler = (req: IncomingMessage, res: ServerResponse, body: unknown) => void | Promise<void>;

export interface HttpsPeer {
  readonly port: number;
  readonly url: string;
  readonly seen: SeenRequest[];
  /** Resolves once every connection the peer accepted is closed (hangs, and times the test out, if one leaks). */
  allSocketsClosed(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real HTTPS server on 127.0.0.1, port chosen by the OS, that never closes an idle connection on its own
 * (keepAliveTimeout 0), so a client that leaves a socket open is seen by `allSocketsClosed`.
 */
export async function startHttpsPeer(tls: ServerOptions, handler: PeerHandler): Promise<HttpsPeer> {
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer(tls, (req, res) => {
    const handle = async (): Promise<void> => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      const body: unknown = text === '' ? undefined : JSON.parse(text);
      const rpc = typeof body === 'object' && body !== null ? (body as { method?: unknown; params?: unknown }) : {};
      seen.push({ method: req.method ?? '', headers: req.headers, rpcMethod: typeof rpc.method === 'string' ? rpc.method : undefined, params: rpc.params });
      await handler(req, res, body);
    };
    handle().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.keepAliveTimeout = 0;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `https://127.0.0.1:${port}/mcp`,
    seen,
    async allSocketsClosed() {
      await Promise.all([...sockets].map((socket) => (socket.closed ? undefined : once(socket, 'close'))));
    },
    async close() {
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

export interface SdkHandlerOptions {
  /** `enableJsonResponse`: answers as application/json instead of an event stream. */
  readonly json: boolean;
  /** Session ids (and DELETE) on, as the SDK's stateful examples; off: a fresh server per request. */
  readonly stateful: boolean;
  readonly newServer: () => McpServer | Server;
  readonly eventStore?: EventStore;
}

/** The SDK's StreamableHTTPServerTransport serving `newServer()`, the way the SDK's examples wire it. */
export function sdkMcpHandler(options: SdkHandlerOptions): PeerHandler {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const transportFor = async (sid: unknown, body: unknown): Promise<StreamableHTTPServerTransport> => {
    const existing = typeof sid === 'string' ? sessions.get(sid) : undefined;
    if (existing !== undefined) return existing;
    const common = { enableJsonResponse: options.json, ...(options.eventStore === undefined ? {} : { eventStore: options.eventStore }) };
    const initialize = (body as { method?: unknown } | undefined)?.method === 'initialize';
    const created =
      options.stateful && initialize
        ? new StreamableHTTPServerTransport({ ...common, sessionIdGenerator: randomUUID, onsessioninitialized: (id) => void sessions.set(id, created) })
        : new StreamableHTTPServerTransport(common); // no sessionIdGenerator: stateless;
    created.onclose = () => void (created.sessionId && sessions.delete(created.sessionId));
    await options.newServer().connect(created);
    return created;
  };
  return async (req, res, body) => {
    await (await transportFor(req.headers['mcp-session-id'], body)).handleRequest(req, res, body);
  };
}
