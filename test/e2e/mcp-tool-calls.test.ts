import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { connectAgent, type Exchange, GET_WEATHER_SCHEMA, routeMcp, startWeatherServer, type WeatherServer } from '../helpers/mcp-weather.js';
import { readmeBlocks } from '../helpers/readme-blocks.js';
import { describeWithEnvoy } from '../helpers/stack-envoy.js';
import { startTestStack, type TestStack } from '../helpers/stack-harness.js';
import { decisionsFor, send } from '../helpers/stack-http.js';

type Json = Record<string, unknown>;

interface ReadmeCall {
  readonly body: string;
  /** `allowed`, or the status and code the README says. */
  readonly expect: { status: 200 } | { status: number; code: string };
}

/** README "MCP tool calls", read as an operator would: the schema, the function entry, the calls. */
function readmeExample(): { schema: string; entry: Json; subject: string; groups: string; calls: ReadmeCall[] } {
  const blocks = readmeBlocks('MCP tool calls');
  const json = blocks.find((b) => b.lang === 'json');
  const yaml = blocks.find((b) => b.lang === 'yaml');
  const sh = blocks.find((b) => b.lang === 'sh');
  if (json === undefined || yaml === undefined || sh === undefined) throw new Error('README "MCP tool calls" lost its json, yaml or sh block');
  const [entry] = parse(yaml.text) as Json[];
  const minted = /--sub (\S+) --groups (\S+)\)/.exec(sh.text);
  const calls = [...sh.text.matchAll(/^mcp '([^']+)'\s+# (?:allowed|(\d{3}) (ERR_\w+))$/gm)].map(([, body, status, code]) => ({
    body: body ?? '',
    expect: status === undefined || code === undefined ? { status: 200 as const } : { status: Number(status), code },
  }));
  if (entry === undefined || minted === null || calls.length < 2) throw new Error('README "MCP tool calls": cannot read the entry or the calls');
  return { schema: json.text, entry, subject: minted[1] ?? '', groups: minted[2] ?? '', calls };
}

/**
 * Issue 12, item 4, end to end: the SDK's MCP client (StreamableHTTPClientTransport) calls the SDK's
 * McpServer (StreamableHTTPServerTransport on node:http) through real Envoy and callguard. What the
 * client sees and what callguard logged, per call.
 */
describeWithEnvoy('e2e: MCP tool calls (functions[].mcp) with the MCP SDK client and server', () => {
  const example = readmeExample();
  let stack: TestStack;
  let weather: WeatherServer;

  beforeAll(async () => {
    weather = await startWeatherServer();
    stack = await startTestStack({
      customizeEnvoy: routeMcp(weather.port),
      customizeCallguard: (config, dir) => {
        const schemaFile = path.join(dir, 'get_weather.json');
        writeFileSync(schemaFile, example.schema);
        const entry = structuredClone(example.entry);
        for (const tool of (entry['mcp'] as { tools: Json[] }).tools) tool['schema'] = schemaFile;
        (config['functions'] as Json[]).push(entry);
      },
    });
    // The harness warms up on /orders; the MCP route's first decision and upstream connection come cold. On a
    // loaded machine that first call can pass Envoy's 200 ms ext_authz timeout (503): pay for it here, bounded.
    const token = await stack.issuer.mint({ subject: 'warm-up', groups: ['warm-up'] });
    const ping = JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'tools/list' });
    for (let attempt = 0; attempt < 10; attempt++) {
      const res = await send(stack, { method: 'POST', path: '/mcp', token, body: ping, headers: { accept: 'application/json, text/event-stream' } });
      if (res.status !== 503) break;
    }
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await weather?.close();
  });

  const connect = (subject: string, groups: string[]) => connectAgent(stack, subject, groups);

  /**
   * The decision lines of the exchanges since `from` with this HTTP method (the client's GET stream
   * attempt comes in the background at any time), in order, each polled until written.
   */
  async function linesOf(exchanges: Exchange[], from = 0, method?: string): Promise<Json[]> {
    const lines: Json[] = [];
    for (const exchange of exchanges.slice(from).filter((e) => method === undefined || e.method === method))
      lines.push(...((await decisionsFor(stack, exchange.requestId)) as unknown as Json[]));
    return lines;
  }

  it('the README schema is the one the server lists for get_weather', () => {
    expect(JSON.parse(example.schema)).toEqual(GET_WEATHER_SCHEMA);
  });

  it("the README's calls, as written → the outcomes it states (allowed: the tool's answer)", async () => {
    const token = await stack.issuer.mint({ subject: example.subject, groups: [example.groups] });
    for (const call of example.calls) {
      const res = await send(stack, { method: 'POST', path: '/mcp', token, body: call.body, headers: { accept: 'application/json, text/event-stream' } });
      const [line] = await decisionsFor(stack, res.requestId);
      if ('code' in call.expect) {
        expect([res.status, res.json()['code']]).toEqual([call.expect.status, call.expect.code]);
        expect(line).toMatchObject({ function: 'weather.mcp', outcome: 'deny', code: call.expect.code });
      } else {
        expect(res.status).toBe(200);
        expect(res.text).toContain('Oslo: sunny for 1 day(s)');
        expect(line).toMatchObject({ function: 'weather.mcp', outcome: 'allow', principal: { subject: example.subject } });
      }
    }
  });

  it('connect: initialize and notifications/initialized allowed; the GET stream refused with 405, which the client accepts', async () => {
    const { client, exchanges } = await connect('agent-1', ['agents']);
    try {
      expect(client.getServerVersion()).toMatchObject({ name: 'weather' });
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name).sort()).toEqual(['delete_city', 'get_weather']);
      // The client opens its GET stream in the background after notifications/initialized: wait for its answer.
      await expect.poll(() => exchanges.some((e) => e.method === 'GET'), { timeout: 5000 }).toBe(true);
      const lines = await linesOf(exchanges);
      const byMethod = (method: string) =>
        lines.find((l) => (l['payload'] as Json | undefined)?.['jsonrpc'] !== undefined && ((l['payload'] as Json)['jsonrpc'] as Json)['method'] === method);
      for (const method of ['initialize', 'notifications/initialized', 'tools/list']) {
        expect(byMethod(method)).toMatchObject({ function: 'weather.mcp', outcome: 'allow', principal: { subject: 'agent-1' } });
      }
      expect(exchanges.find((e) => e.method === 'GET')?.status).toBe(405);
      expect(lines).toContainEqual(expect.objectContaining({ function: 'weather.mcp', outcome: 'deny', status: 405, code: 'ERR_MCP_HTTP_METHOD' }));
      expect(weather.httpMethods).not.toContain('GET');
    } finally {
      await client.close();
    }
  });

  it('an allowed tool call: the server runs it for the caller; the decision line names the tool and the logged field', async () => {
    const { client, exchanges } = await connect('agent-2', ['agents']);
    try {
      const from = exchanges.length;
      const result = await client.callTool({ name: 'get_weather', arguments: { city: 'Oslo', days: 2 } });
      expect(result.content).toEqual([{ type: 'text', text: 'Oslo: sunny for 2 day(s)' }]);
      expect(weather.toolCalls.at(-1)).toEqual({ tool: 'get_weather', args: { city: 'Oslo', days: 2 }, subject: 'agent-2' });
      const lines = await linesOf(exchanges, from, 'POST');
      expect(lines).toMatchObject([
        {
          function: 'weather.mcp',
          outcome: 'allow',
          principal: { subject: 'agent-2' },
          payload: { jsonrpc: { method: 'tools/call', tool: 'get_weather' }, fields: { '/city': 'Oslo' } },
        },
      ]);
      expect(JSON.stringify(lines)).not.toContain('"days"');
    } finally {
      await client.close();
    }
  });

  it.each([
    { name: 'a tool this identity may not call', tool: 'delete_city', args: { city: 'Oslo' }, status: 403, code: 'ERR_NOT_PERMITTED' },
    { name: 'invalid arguments', tool: 'get_weather', args: { city: 'Oslo', days: 30 }, status: 400, code: 'ERR_BODY_SCHEMA' },
    { name: 'an unknown tool', tool: 'drop_tables', args: {}, status: 400, code: 'ERR_MCP_TOOL_UNKNOWN' },
    { name: 'a tool name imitating one (Cyrillic е)', tool: 'get_w\u0435ather', args: { city: 'Oslo' }, status: 400, code: 'ERR_MCP_TOOL_CONFUSABLE' },
  ])('$name → the client gets HTTP $status with $code; the server never sees the call', async ({ tool, args, status, code }) => {
    const { client, exchanges } = await connect('agent-3', ['agents']);
    try {
      const calls = weather.toolCalls.length;
      const from = exchanges.length;
      const error = await client.callTool({ name: tool, arguments: args }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(StreamableHTTPError);
      expect((error as StreamableHTTPError).code).toBe(status);
      expect((error as Error).message).toContain(`"code":"${code}"`);
      expect(weather.toolCalls.length).toBe(calls);
      const lines = await linesOf(exchanges, from, 'POST');
      expect(lines).toMatchObject([
        { function: 'weather.mcp', outcome: 'deny', status, code, principal: { subject: 'agent-3' }, payload: { jsonrpc: { method: 'tools/call' } } },
      ]);
    } finally {
      await client.close();
    }
  });

  it('an admin may call delete_city; ending the session (DELETE) passes callguard and reaches the server', async () => {
    const { client, exchanges, transport } = await connect('admin', ['agents']);
    try {
      const result = await client.callTool({ name: 'delete_city', arguments: { city: 'Oslo' } });
      expect(result.content).toEqual([{ type: 'text', text: 'deleted Oslo' }]);
      const from = exchanges.length;
      await transport.terminateSession();
      expect(exchanges.slice(from).filter((e) => e.method === 'DELETE')).toMatchObject([{ status: 200 }]);
      expect(await linesOf(exchanges, from, 'DELETE')).toMatchObject([{ function: 'weather.mcp', outcome: 'allow' }]);
      expect(weather.httpMethods).toContain('DELETE');
    } finally {
      await client.close();
    }
  });

  it('a caller outside the function rules cannot even initialize (403 ERR_NOT_PERMITTED)', async () => {
    const error = await connect('mallory', ['orders-readers']).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect((error as StreamableHTTPError).code).toBe(403);
    expect((error as Error).message).toContain('"code":"ERR_NOT_PERMITTED"');
  });
});
