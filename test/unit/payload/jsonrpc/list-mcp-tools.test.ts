import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { ServerOptions } from 'node:https';
import { createServer } from 'node:net';
import path from 'node:path';
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { LATEST_PROTOCOL_VERSION, ListToolsRequestSchema, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { McpServerConfig } from '../../../../src/config/types.js';
import {
  KNOWN_MCP_PROTOCOL_VERSIONS,
  LIST_LIMITS,
  ListToolsError,
  type ListToolsStep,
  listMcpTools,
  MCP_PROTOCOL_VERSION,
} from '../../../../src/payload/jsonrpc/list-mcp-tools.js';
import { type HttpsPeer, type PeerHandler, sdkMcpHandler, startHttpsPeer } from '../../../helpers/mcp-https-peers.js';
import { createTestCerts } from '../../../helpers/test-certs.js';

type Certs = ReturnType<typeof createTestCerts>;
let certs: Certs;
let otherCa: Certs;
let serverTls: ServerOptions;
let client: { certFile: string; keyFile: string };
const peers: HttpsPeer[] = [];

beforeAll(() => {
  certs = createTestCerts();
  otherCa = createTestCerts();
  const leaf = certs.leaf('mcp-server', 'DNS:mcp.test,IP:127.0.0.1');
  serverTls = { cert: leaf.pem, key: readFileSync(leaf.keyFile), minVersion: 'TLSv1.2' };
  client = certs.leaf('callguard', 'DNS:callguard');
});
afterAll(() => {
  certs.cleanup();
  otherCa.cleanup();
});
afterEach(async () => {
  for (const peer of peers.splice(0)) await peer.close();
});

async function peer(handler: PeerHandler, tls: ServerOptions = serverTls): Promise<HttpsPeer> {
  const started = await startHttpsPeer(tls, handler);
  peers.push(started);
  return started;
}

function configFor(p: { url: string }, extra: Partial<McpServerConfig> = {}): McpServerConfig {
  return { url: p.url, ca: path.join(certs.dir, 'ca.pem'), timeoutMs: 10_000, retryMs: 1000, ...extra };
}

const sha256 = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('base64url');

function weatherServer(): McpServer {
  const server = new McpServer({ name: 'weather', version: '1.0.0' });
  server.registerTool('get_weather', { inputSchema: { city: z.string().min(1), days: z.number().int().optional() } }, async () => ({ content: [] }));
  server.registerTool('delete_city', { inputSchema: { city: z.string() } }, async () => ({ content: [] }));
  return server;
}

/** The low-level SDK Server, listing `pages` one after the other (cursor = page index), with a log notification first. */
function pagedServer(pages: readonly (readonly string[])[]): Server {
  const server = new Server({ name: 'paged', version: '1.0.0' }, { capabilities: { tools: {}, logging: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async (request, extra) => {
    await extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data: 'listing' } });
    const index = Number(request.params?.cursor ?? 0);
    const names = pages[index] ?? [];
    const tools = names.map((name) => ({ name, inputSchema: { type: 'object' as const, properties: { [name]: { type: 'string' } } } }));
    return index + 1 < pages.length ? { tools, nextCursor: String(index + 1) } : { tools };
  });
  return server;
}

it('asks for the newest MCP revision the SDK knows and takes exactly the revisions it supports (an SDK upgrade shows here)', () => {
  expect(MCP_PROTOCOL_VERSION).toBe(LATEST_PROTOCOL_VERSION);
  expect(KNOWN_MCP_PROTOCOL_VERSIONS).toEqual(SUPPORTED_PROTOCOL_VERSIONS);
});

describe('listMcpTools against the SDK server (StreamableHTTPServerTransport on node:https)', () => {
  describe.each([
    { name: 'stateful, event-stream answers', json: false, stateful: true },
    { name: 'stateful, JSON answers', json: true, stateful: true },
    { name: 'stateless, event-stream answers', json: false, stateful: false },
    { name: 'stateless, JSON answers', json: true, stateful: false },
  ])('$name', ({ json, stateful }) => {
    it('lists every tool with its input schema and digest, and closes every socket', async () => {
      const p = await peer(sdkMcpHandler({ json, stateful, newServer: weatherServer }));
      const tools = await listMcpTools(configFor(p));

      expect([...tools.keys()]).toEqual(['get_weather', 'delete_city']);
      const weather = tools.get('get_weather');
      expect(weather?.inputSchema).toMatchObject({ type: 'object', required: ['city'], properties: { city: { type: 'string', minLength: 1 } } });
      expect(weather?.digest).toBe(sha256(weather?.inputSchema));
      expect(p.seen.map((r) => `${r.method} ${r.rpcMethod ?? ''}`.trim())).toEqual([
        'POST initialize',
        'POST notifications/initialized',
        'POST tools/list',
        ...(stateful ? ['DELETE'] : []),
      ]);
      expect(p.seen[0]?.headers['mcp-session-id']).toBeUndefined();
      for (const later of p.seen.slice(1)) {
        expect(later.headers['mcp-protocol-version']).toBe(MCP_PROTOCOL_VERSION);
        if (stateful) expect(later.headers['mcp-session-id']).toMatch(/^[0-9a-f-]{36}$/);
        else expect(later.headers['mcp-session-id']).toBeUndefined();
      }
      await p.allSocketsClosed();
    });
  });

  it('follows nextCursor page by page and skips the notification the server sends on the stream first', async () => {
    const p = await peer(sdkMcpHandler({ json: false, stateful: true, newServer: () => pagedServer([['a', 'b'], ['c'], ['d']]) }));
    const tools = await listMcpTools(configFor(p));
    expect([...tools.keys()]).toEqual(['a', 'b', 'c', 'd']);
    expect(p.seen.filter((r) => r.rpcMethod === 'tools/list').map((r) => r.params)).toEqual([undefined, { cursor: '1' }, { cursor: '2' }]);
    await p.allSocketsClosed();
  });

  it('refuses a listing whose schemas exceed the total cap, though each page is under the per-answer cap', async () => {
    // 5 pages, one tool each with a 3.5 MB schema: every answer < 4 MiB, together > 16 MiB.
    const big = 'x'.repeat(3_500_000);
    const server = (): Server => {
      const s = new Server({ name: 'big', version: '1.0.0' }, { capabilities: { tools: {} } });
      s.setRequestHandler(ListToolsRequestSchema, async (request) => {
        const index = Number(request.params?.cursor ?? 0);
        const tools = [{ name: `t${index}`, inputSchema: { type: 'object' as const, description: big } }];
        return index < 4 ? { tools, nextCursor: String(index + 1) } : { tools };
      });
      return s;
    };
    const p = await peer(sdkMcpHandler({ json: true, stateful: true, newServer: server }));
    const err = await listMcpTools(configFor(p, { timeoutMs: 30_000 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ListToolsError);
    expect(err).toMatchObject({ step: 'tools/list', message: expect.stringContaining(`the input schemas exceed ${LIST_LIMITS.schemaBytes} bytes in all`) });
    await p.allSocketsClosed();
  });

  it('reads past the priming event of a server with an event store (SSE ids, empty data)', async () => {
    const p = await peer(sdkMcpHandler({ json: false, stateful: true, newServer: weatherServer, eventStore: new InMemoryEventStore() }));
    expect([...(await listMcpTools(configFor(p))).keys()]).toEqual(['get_weather', 'delete_city']);
    await p.allSocketsClosed();
  });

  it('presents the client certificate to a server that requires mutual TLS', async () => {
    const p = await peer(sdkMcpHandler({ json: true, stateful: true, newServer: weatherServer }), mutualTls());
    const tools = await listMcpTools(configFor(p, { cert: client.certFile, key: client.keyFile }));
    expect(tools.size).toBe(2);
    await p.allSocketsClosed();
  });

  it('checks the certificate against serverName (SNI and SAN) when the URL host is an address', async () => {
    const dnsOnly = certs.leaf('dns-only', 'DNS:mcp.test');
    const p = await peer(sdkMcpHandler({ json: true, stateful: false, newServer: weatherServer }), { cert: dnsOnly.pem, key: readFileSync(dnsOnly.keyFile) });
    expect((await listMcpTools(configFor(p, { serverName: 'mcp.test' }))).size).toBe(2);
    await p.allSocketsClosed();
  });
});

function mutualTls(): ServerOptions {
  return { ...serverTls, ca: certs.caPem, requestCert: true, rejectUnauthorized: true };
}

const json = (res: ServerResponse, payload: unknown, status = 200) =>
  void res.writeHead(status, { 'content-type': 'application/json' }).end(typeof payload === 'string' ? payload : JSON.stringify(payload));
const WEATHER = { name: 'get_weather', inputSchema: { type: 'object' } };
type Rpc = { id?: number; method?: string; params?: { cursor?: string } };

/** A hand-rolled MCP peer: a correct initialize and initialized; `answers` replaces any step (by JSON-RPC method, or HTTP method without a body). */
function scripted(answers: { [method: string]: (res: ServerResponse, rpc: Rpc) => void }): PeerHandler {
  return (req, res, body) => {
    const rpc = (body ?? {}) as Rpc;
    const custom = answers[rpc.method ?? req.method ?? ''];
    if (custom !== undefined) return custom(res, rpc);
    if (rpc.method === 'initialize') {
      return json(res, {
        jsonrpc: '2.0',
        id: rpc.id,
        result: { protocolVersion: MCP_PROTOCOL_VERSION, capabilities: { tools: {} }, serverInfo: { name: 's', version: '1' } },
      });
    }
    if (rpc.method === 'notifications/initialized') return void res.writeHead(202).end();
    if (rpc.method === 'tools/list') return json(res, { jsonrpc: '2.0', id: rpc.id, result: { tools: [WEATHER] } });
    res.writeHead(404).end();
  };
}
const toolsAnswer = (tools: unknown[]) => (res: ServerResponse, rpc: Rpc) => json(res, { jsonrpc: '2.0', id: rpc.id, result: { tools } });

interface FailureRow {
  readonly name: string;
  readonly handler?: PeerHandler;
  readonly tls?: () => ServerOptions;
  readonly config?: (p: HttpsPeer) => Partial<McpServerConfig>;
  readonly step: ListToolsStep;
  readonly fragment: string | RegExp;
}

const FAILURES: readonly FailureRow[] = [
  {
    name: 'a CA file that does not exist',
    config: () => ({ ca: '/nonexistent/ca.pem' }),
    step: 'tls-files',
    fragment: 'cannot read the ca file /nonexistent/ca.pem: ENOENT',
  },
  { name: 'a CA file without a certificate', config: () => ({ ca: client.keyFile }), step: 'tls-files', fragment: 'holds no PEM certificate' },
  {
    name: 'a client key that is not the certificate’s',
    config: () => ({ cert: client.certFile, key: path.join(certs.dir, 'ca.key') }),
    step: 'tls-files',
    fragment: 'not usable',
  },
  {
    name: 'a certificate from another CA',
    config: () => ({ ca: path.join(otherCa.dir, 'ca.pem') }),
    step: 'connect',
    fragment: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  },
  { name: 'a certificate without the serverName', config: () => ({ serverName: 'other.test' }), step: 'connect', fragment: 'ERR_TLS_CERT_ALTNAME_INVALID' },
  {
    name: 'a certificate without the address of the URL',
    tls: () => dnsOnlyTls(),
    step: 'connect',
    fragment: "ERR_TLS_CERT_ALTNAME_INVALID (Hostname/IP does not match certificate's altnames: IP: 127.0.0.1",
  },
  {
    name: 'a certificate without any SAN (only a matching CN)',
    tls: () => noSanTls(),
    config: () => ({ serverName: 'no-san' }),
    step: 'connect',
    fragment: 'the certificate has no subjectAltName',
  },
  { name: 'no client certificate for a server requiring one', tls: () => mutualTls(), step: 'connect', fragment: /CERTIFICATE_REQUIRED|ECONNRESET/ },
  {
    name: 'HTTP 401',
    handler: (_req, res) => void res.writeHead(401, { 'www-authenticate': 'Bearer' }).end('secret detail'),
    step: 'initialize',
    fragment: 'HTTP 401',
  },
  {
    name: 'a 302 redirect',
    handler: (_req, res) => void res.writeHead(302, { location: 'https://127.0.0.1:1/elsewhere' }).end(),
    step: 'initialize',
    fragment: 'HTTP 302 (redirects are not followed)',
  },
  {
    name: 'a content type neither JSON nor SSE',
    handler: (_req, res) => void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<html>secret</html>'),
    step: 'initialize',
    fragment: 'content-type "text/html" is neither application/json nor text/event-stream',
  },
  {
    name: 'an unknown protocol version',
    handler: scripted({
      initialize: (res, rpc) => json(res, { jsonrpc: '2.0', id: rpc.id, result: { protocolVersion: '1999-01-01', capabilities: { tools: {} } } }),
    }),
    step: 'initialize',
    fragment: 'protocol version "1999-01-01", which callguard does not know',
  },
  {
    name: 'a server without the tools capability',
    handler: scripted({
      initialize: (res, rpc) => json(res, { jsonrpc: '2.0', id: rpc.id, result: { protocolVersion: MCP_PROTOCOL_VERSION, capabilities: {} } }),
    }),
    step: 'initialize',
    fragment: 'does not declare the tools capability',
  },
  {
    name: 'HTTP 400 to notifications/initialized',
    handler: scripted({ 'notifications/initialized': (res) => void res.writeHead(400).end() }),
    step: 'initialized',
    fragment: 'HTTP 400',
  },
  { name: 'HTTP 500', handler: scripted({ 'tools/list': (res) => void res.writeHead(500).end('stack trace') }), step: 'tools/list', fragment: 'HTTP 500' },
  {
    name: 'a body over 4 MiB (content-length)',
    handler: scripted({
      'tools/list': (res, rpc) => json(res, { jsonrpc: '2.0', id: rpc.id, result: { tools: [WEATHER], pad: 'x'.repeat(4 * 1024 * 1024) } }),
    }),
    step: 'tools/list',
    fragment: 'the answer is larger than 4194304 bytes',
  },
  {
    name: 'an event stream over 4 MiB (chunked, never ending)',
    handler: scripted({ 'tools/list': (res) => streamForever(res) }),
    step: 'tools/list',
    fragment: 'the answer is larger than 4194304 bytes',
  },
  {
    name: 'duplicate keys in the tools/list answer',
    handler: scripted({
      'tools/list': (res, rpc) =>
        json(res, `{"jsonrpc":"2.0","id":${rpc.id},"result":{"tools":[{"name":"a","inputSchema":{"type":"object","type":"object"}}]}}`),
    }),
    step: 'tools/list',
    fragment: 'duplicate object key (RFC 8259 §4)',
  },
  {
    name: 'a JSON-RPC error (message cut to 200 printable characters)',
    handler: scripted({ 'tools/list': (res, rpc) => json(res, { jsonrpc: '2.0', id: rpc.id, error: { code: -32603, message: `é\n${'x'.repeat(300)}` } }) }),
    step: 'tools/list',
    fragment: `JSON-RPC error -32603: "??${'x'.repeat(198)}"`,
  },
  {
    name: 'a response with another id',
    handler: scripted({ 'tools/list': (res) => json(res, { jsonrpc: '2.0', id: 99, result: { tools: [] } }) }),
    step: 'tools/list',
    fragment: "the response's id is not the request's (2)",
  },
  {
    name: 'a response that is not JSON-RPC 2.0',
    handler: scripted({ 'tools/list': (res, rpc) => json(res, { id: rpc.id, result: { tools: [] } }) }),
    step: 'tools/list',
    fragment: 'not a JSON-RPC 2.0 response',
  },
  {
    name: 'a tool that is not an object',
    handler: scripted({ 'tools/list': toolsAnswer([WEATHER, 'x']) }),
    step: 'tools/list',
    fragment: 'page 1 tools[1] is not an object',
  },
  {
    name: 'a tool without a name',
    handler: scripted({ 'tools/list': toolsAnswer([{ inputSchema: { type: 'object' } }]) }),
    step: 'tools/list',
    fragment: 'page 1 tools[0] has no name',
  },
  {
    name: 'a tool without inputSchema',
    handler: scripted({ 'tools/list': toolsAnswer([{ name: 'bare' }]) }),
    step: 'tools/list',
    fragment: 'tool "bare": inputSchema is not an object',
  },
  {
    name: 'an inputSchema not of type object',
    handler: scripted({ 'tools/list': toolsAnswer([{ name: 's', inputSchema: { type: 'string' } }]) }),
    step: 'tools/list',
    fragment: 'tool "s": inputSchema.type is not "object"',
  },
  {
    name: 'a tool name listed twice',
    handler: scripted({ 'tools/list': toolsAnswer([WEATHER, WEATHER]) }),
    step: 'tools/list',
    fragment: 'tool "get_weather" is listed twice',
  },
  {
    name: 'a cursor loop',
    handler: scripted({
      'tools/list': (res, rpc) =>
        json(res, {
          jsonrpc: '2.0',
          id: rpc.id,
          result: { tools: rpc.params?.cursor === 'B' ? [] : [{ ...WEATHER, name: `t${rpc.id}` }], nextCursor: rpc.params?.cursor === 'A' ? 'B' : 'A' },
        }),
    }),
    step: 'tools/list',
    fragment: 'page 3: the server returned a cursor it returned before (a loop)',
  },
  {
    name: 'an event stream that ends without the response',
    handler: scripted({
      'tools/list': (res) =>
        void res.writeHead(200, { 'content-type': 'text/event-stream' }).end('event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress"}\n\n'),
    }),
    step: 'tools/list',
    fragment: 'the event stream ended without the response',
  },
  {
    name: 'a session id that is not visible ASCII',
    handler: scripted({
      initialize: (res, rpc) =>
        void res
          .writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'a b' })
          .end(JSON.stringify({ jsonrpc: '2.0', id: rpc.id, result: { protocolVersion: MCP_PROTOCOL_VERSION, capabilities: { tools: {} } } })),
    }),
    step: 'initialize',
    fragment: 'the mcp-session-id header is not visible ASCII',
  },
  {
    name: 'a server that never answers',
    handler: () => new Promise<void>(() => {}),
    // Long enough for a TLS handshake on a loaded machine: the step is initialize, not connect.
    config: () => ({ timeoutMs: 500 }),
    step: 'initialize',
    fragment: 'timed out after 500 ms',
  },
];

function dnsOnlyTls(): ServerOptions {
  const leaf = certs.leaf('dns-only', 'DNS:mcp.test');
  return { cert: leaf.pem, key: readFileSync(leaf.keyFile) };
}
function noSanTls(): ServerOptions {
  const leaf = certs.leaf('no-san', undefined);
  return { cert: leaf.pem, key: readFileSync(leaf.keyFile) };
}

/** An event stream of comments, written until the client goes away. */
function streamForever(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const chunk = `: ${'x'.repeat(64 * 1024)}\n`;
  const write = (): void => {
    while (!res.destroyed && res.write(chunk));
    if (!res.destroyed) res.once('drain', write);
  };
  write();
}

describe('listMcpTools refusals', () => {
  let controller = new AbortController();

  it.each(FAILURES)('$name: $step', async (row) => {
    const p = await peer(row.handler ?? scripted({}), row.tls?.() ?? serverTls);
    const error = await listMcpTools(configFor(p, row.config?.(p))).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(ListToolsError);
    const failure = error as ListToolsError;
    expect(failure.step).toBe(row.step);
    expect(failure.message.startsWith(`${p.url} ${row.step}: `)).toBe(true);
    if (typeof row.fragment === 'string') expect(failure.message).toContain(row.fragment);
    else expect(failure.message).toMatch(row.fragment);
    expect(failure.message).not.toMatch(/secret|stack trace/);
    expect(failure.message).not.toMatch(/\p{Cc}/u); // no control characters: one log line
    await p.allSocketsClosed();
  });

  it('refuses a server that accepts TCP and never completes TLS as a connect timeout', async () => {
    // Reading (and ignoring) the ClientHello: a paused socket would never see the client go away.
    const tcp = createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const port = (tcp.address() as { port: number }).port;
    const url = `https://127.0.0.1:${port}/mcp`;
    const closed: Promise<void>[] = [];
    tcp.on('connection', (socket) => closed.push(new Promise((resolve) => socket.once('close', () => resolve()))));
    try {
      await expect(listMcpTools(configFor({ url }, { timeoutMs: 300 }))).rejects.toThrow(`${url} connect: timed out after 300 ms`);
      await Promise.all(closed);
    } finally {
      tcp.close();
    }
  });

  it('refuses a closed port as a connect failure', async () => {
    const tcp = createServer();
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const port = (tcp.address() as { port: number }).port;
    await new Promise((resolve) => tcp.close(resolve));
    await expect(listMcpTools(configFor({ url: `https://127.0.0.1:${port}/mcp` }))).rejects.toThrow('connect: ECONNREFUSED');
  });

  it("stops when the caller's signal aborts, and says so", async () => {
    const p = await peer(() => new Promise<void>(() => {}));
    const controller = new AbortController();
    const listing = listMcpTools(configFor(p), { signal: controller.signal });
    await new Promise<void>((resolve) => {
      const poll = () => (p.seen.length > 0 ? resolve() : setImmediate(poll));
      poll();
    });
    controller.abort();
    await expect(listing).rejects.toThrow(`${p.url} initialize: aborted`);
    await p.allSocketsClosed();
  });

  it('does not follow the redirect', async () => {
    const target = await peer(scripted({}));
    const p = await peer((_req, res) => void res.writeHead(307, { location: target.url }).end());
    await expect(listMcpTools(configFor(p))).rejects.toThrow('initialize: HTTP 307 (redirects are not followed)');
    expect(target.seen).toEqual([]);
  });

  it.each([
    { name: 'answers 405', answer: (res: ServerResponse) => void res.writeHead(405).end() },
    // The listing is done by then: the abort (as a timeout would) only ends the wait for the DELETE.
    { name: 'never answers (until the signal aborts)', answer: () => controller.abort() },
  ])('keeps the listing when the DELETE of the session $name', async ({ answer }) => {
    controller = new AbortController();
    const p = await peer(
      scripted({
        initialize: (res, rpc) =>
          void res
            .writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'session-1' })
            .end(JSON.stringify({ jsonrpc: '2.0', id: rpc.id, result: { protocolVersion: '2025-06-18', capabilities: { tools: {} } } })),
        DELETE: answer,
      }),
    );
    const tools = await listMcpTools(configFor(p), { signal: controller.signal });
    expect([...tools.keys()]).toEqual(['get_weather']);
    const deleted = p.seen.at(-1);
    expect(deleted?.method).toBe('DELETE');
    expect(deleted?.headers).toMatchObject({ 'mcp-session-id': 'session-1', 'mcp-protocol-version': '2025-06-18' });
    await p.allSocketsClosed();
  });

  it('reads an event stream with CRLF line ends, comments and multi-line data', async () => {
    const p = await peer(
      scripted({
        'tools/list': (res, rpc) =>
          void res
            .writeHead(200, { 'content-type': 'text/event-stream' })
            .end(
              `: hello\r\nevent: message\r\ndata: {"jsonrpc":"2.0",\r\ndata: "id":${rpc.id},"result":{"tools":[{"name":"a",\r\ndata: "inputSchema":{"type":"object"}}]}}\r\n\r\n`,
            ),
      }),
    );
    expect([...(await listMcpTools(configFor(p))).keys()]).toEqual(['a']);
    await p.allSocketsClosed();
  });
});
