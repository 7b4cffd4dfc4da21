import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { z } from 'zod';

/** `get_weather`'s input schema as callguard validates it (the same as the server's zod schema lists). */
export const GET_WEATHER_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  additionalProperties: false,
  required: ['city'],
  properties: { city: { type: 'string', minLength: 1, maxLength: 64 }, days: { type: 'integer', minimum: 1, maximum: 7 } },
};

/** What the MCP server saw: one entry per JSON-RPC method it handled, and tool calls by name. */
export interface WeatherServer {
  readonly port: number;
  readonly toolCalls: { tool: string; args: unknown; subject: string | undefined }[];
  readonly httpMethods: string[];
  close(): Promise<void>;
}

/**
 * A real MCP server (the SDK's McpServer on StreamableHTTPServerTransport, sessions on) on node:http,
 * or node:https with `tls`, loopback, port 0 unless `port`: tools `get_weather` and `delete_city`.
 */
export async function startWeatherServer(
  options: { readonly tls?: { readonly cert: Buffer; readonly key: Buffer }; readonly port?: number } = {},
): Promise<WeatherServer> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const toolCalls: WeatherServer['toolCalls'] = [];
  const httpMethods: string[] = [];
  const subjectOf = (extra: { requestInfo?: { headers: Record<string, string | string[] | undefined> } }) => {
    const value = extra.requestInfo?.headers['x-callguard-subject'];
    return typeof value === 'string' ? value : undefined;
  };
  const newServer = (): McpServer => {
    const server = new McpServer({ name: 'weather', version: '1.0.0' });
    server.registerTool(
      'get_weather',
      { description: 'Forecast for a city', inputSchema: { city: z.string().min(1).max(64), days: z.number().int().min(1).max(7).optional() } },
      async (args, extra) => {
        toolCalls.push({ tool: 'get_weather', args, subject: subjectOf(extra) });
        return { content: [{ type: 'text', text: `${args.city}: sunny for ${args.days ?? 1} day(s)` }] };
      },
    );
    server.registerTool('delete_city', { description: 'Remove a city', inputSchema: { city: z.string() } }, async (args, extra) => {
      toolCalls.push({ tool: 'delete_city', args, subject: subjectOf(extra) });
      return { content: [{ type: 'text', text: `deleted ${args.city}` }] };
    });
    return server;
  };
  // Sessions as the SDK's examples keep them; a POST without a session that is not `initialize` (a
  // one-off call, as with curl) is served statelessly by a fresh server.
  const transportFor = async (sid: unknown, body: unknown): Promise<StreamableHTTPServerTransport> => {
    const existing = typeof sid === 'string' ? transports.get(sid) : undefined;
    if (existing !== undefined) return existing;
    const initialize = typeof body === 'object' && body !== null && (body as { method?: unknown }).method === 'initialize';
    const created = initialize
      ? new StreamableHTTPServerTransport({ sessionIdGenerator: randomUUID, onsessioninitialized: (id) => void transports.set(id, created) })
      : new StreamableHTTPServerTransport({}); // no sessionIdGenerator: stateless
    created.onclose = () => void (created.sessionId && transports.delete(created.sessionId));
    await newServer().connect(created);
    return created;
  };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    httpMethods.push(req.method ?? '');
    const handle = async (): Promise<void> => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      const body: unknown = text === '' ? undefined : JSON.parse(text);
      await (await transportFor(req.headers['mcp-session-id'], body)).handleRequest(req, res, body);
    };
    handle().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  };
  const http: Server = options.tls === undefined ? createServer(handler) : createHttpsServer(options.tls, handler);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  return {
    port: (http.address() as AddressInfo).port,
    toolCalls,
    httpMethods,
    async close() {
      for (const transport of transports.values()) await transport.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

/** One HTTP exchange the MCP client made through Envoy, keyed by Envoy's x-request-id. */
export interface Exchange {
  readonly method: string;
  readonly status: number;
  readonly requestId: string;
}

/**
 * A fetch for the SDK client that reaches Envoy's listener over HTTPS, trusting only the stack's dev CA
 * (Envoy's SAN is `envoy`, the URL's host 127.0.0.1), and records each exchange.
 */
export function envoyFetch(pkiDir: string, exchanges: Exchange[]): FetchLike {
  const ca = readFileSync(path.join(pkiDir, 'ca.crt'));
  return (url, init) =>
    new Promise<Response>((resolve, reject) => {
      const target = new URL(url);
      const method = init?.method ?? 'GET';
      const headers: Record<string, string> = {};
      new Headers(init?.headers).forEach((value, name) => {
        headers[name] = value;
      });
      const req = request(
        { host: target.hostname, port: target.port, path: target.pathname + target.search, method, headers, ca, servername: 'envoy', agent: false },
        (res) => {
          const status = res.statusCode ?? 0;
          exchanges.push({ method, status, requestId: String(res.headers['x-request-id'] ?? '') });
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
          }
          const empty = status === 204 || status === 304;
          if (empty) res.resume();
          resolve(new Response(empty ? null : (Readable.toWeb(res) as ReadableStream), { status, headers: responseHeaders }));
        },
      );
      init?.signal?.addEventListener('abort', () => req.destroy(new Error('aborted')));
      req.on('error', reject);
      req.end(typeof init?.body === 'string' ? init.body : undefined);
    });
}

/**
 * Changes a rendered Envoy config: `/mcp` routed (before the catch-all) to the MCP server on loopback
 * `port`, through the same ext_authz filter; with `tls`, over TLS verified as the function is (the
 * function cluster's transport socket: the stack's CA, SAN `function`).
 */
export function routeMcp(port: number, options: { readonly tls?: boolean } = {}) {
  return (config: Record<string, unknown>): void => {
    type Json = Record<string, unknown>;
    const resources = config['static_resources'] as { listeners: Json[]; clusters: Json[] };
    const listener = resources.listeners[0] as { filter_chains: { filters: { typed_config: { route_config: { virtual_hosts: { routes: Json[] }[] } } }[] }[] };
    const routes = listener.filter_chains[0]?.filters[0]?.typed_config.route_config.virtual_hosts[0]?.routes;
    const fn = resources.clusters.find((c) => c['name'] === 'function');
    if (routes === undefined || fn === undefined) throw new Error('the rendered Envoy config has no routes or no function cluster');
    routes.unshift({ match: { path: '/mcp' }, route: { cluster: 'mcp', timeout: '10s' } });
    resources.clusters.push({
      name: 'mcp',
      type: 'STATIC',
      connect_timeout: '1s',
      ...(options.tls === true ? { transport_socket: fn['transport_socket'] } : {}),
      load_assignment: {
        cluster_name: 'mcp',
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }],
      },
    });
  };
}

/**
 * The SDK's MCP client, connected as an agent through Envoy's listener (`/mcp`) with a token the stack's
 * issuer minted for `subject` and `groups`; every HTTP exchange is recorded in `exchanges`.
 */
export async function connectAgent(
  stack: { readonly envoyPort: number; readonly pkiDir: string; readonly issuer: { mint(o: { subject: string; groups: string[] }): Promise<string> } },
  subject: string,
  groups: string[],
): Promise<{ client: Client; exchanges: Exchange[]; transport: StreamableHTTPClientTransport }> {
  const token = await stack.issuer.mint({ subject, groups });
  const exchanges: Exchange[] = [];
  const transport = new StreamableHTTPClientTransport(new URL(`https://127.0.0.1:${stack.envoyPort}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
    fetch: envoyFetch(stack.pkiDir, exchanges),
  });
  const client = new Client({ name: 'e2e-agent', version: '1.0.0' });
  await client.connect(transport);
  return { client, exchanges, transport };
}
