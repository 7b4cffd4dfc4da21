import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { connectAgent, type Exchange, routeMcp, startWeatherServer, type WeatherServer } from '../helpers/mcp-weather.js';
import { readmeBlocks } from '../helpers/readme-blocks.js';
import { describeWithEnvoy } from '../helpers/stack-envoy.js';
import { createPki, startTestStack, type TestStack } from '../helpers/stack-harness.js';
import { decisionsFor } from '../helpers/stack-http.js';

type Json = Record<string, unknown>;

/** README "Tool schemas from the server": the function entry whose tools take the server's schemas. */
function readmeEntry(): Json {
  const block = readmeBlocks('MCP tool calls').find((b) => b.lang === 'yaml' && b.text.includes('server:'));
  if (block === undefined) throw new Error('README "Tool schemas from the server (tools/list)" lost its yaml block');
  const [entry] = parse(block.text) as Json[];
  if (entry === undefined) throw new Error('README "Tool schemas from the server": no function entry');
  return entry;
}

/**
 * Issue 12, item 4 (`tools/list` at start), end to end: callguard lists the tools of the SDK's McpServer
 * itself, over TLS with the stack's CA and the server's SAN, and judges the SDK client's calls made through
 * real Envoy by the schemas the server listed: the README entry as written, only its URL and CA path
 * pointed at this test's server and PKI.
 */
describeWithEnvoy('e2e: MCP tool schemas from the server (mcp.server) through real Envoy', () => {
  const entry = readmeEntry();
  let pkiDir: string;
  let stack: TestStack;
  let weather: WeatherServer;

  beforeAll(async () => {
    pkiDir = mkdtempSync(path.join(tmpdir(), 'callguard-mcp-pki-'));
    createPki(pkiDir);
    weather = await startWeatherServer({
      tls: { cert: readFileSync(path.join(pkiDir, 'function.crt')), key: readFileSync(path.join(pkiDir, 'function.key')) },
    });
    stack = await startTestStack({
      pkiDir,
      customizeEnvoy: routeMcp(weather.port, { tls: true }),
      customizeCallguard: (config) => {
        const fn = structuredClone(entry) as { mcp: { server: Json; tools: Json[] } };
        fn.mcp.server['url'] = `https://127.0.0.1:${weather.port}/mcp`;
        fn.mcp.server['ca'] = path.join(pkiDir, 'ca.crt');
        // delete_city keeps a reviewed file in the README; this test lists both from the server.
        for (const tool of fn.mcp.tools) delete tool['schema'];
        (config['functions'] as Json[]).push(fn);
      },
    });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await weather?.close();
    if (pkiDir !== undefined) rmSync(pkiDir, { recursive: true, force: true });
  });

  const connect = (subject: string) => connectAgent(stack, subject, ['agents']);

  it('callguard listed the tools itself: a session of its own reached the server before any agent', () => {
    // initialize, notifications/initialized, tools/list, then DELETE of its session.
    expect(weather.httpMethods.slice(0, 4)).toEqual(['POST', 'POST', 'POST', 'DELETE']);
  });

  it('an agent calls get_weather with valid arguments: allowed, the server runs it', async () => {
    const { client } = await connect('agent-1');
    try {
      const result = await client.callTool({ name: 'get_weather', arguments: { city: 'Oslo', days: 2 } });
      expect(result.content).toEqual([{ type: 'text', text: 'Oslo: sunny for 2 day(s)' }]);
    } finally {
      await client.close();
    }
  });

  it.each([
    { name: 'days beyond the listed maximum (7)', args: { city: 'Oslo', days: 30 }, pointer: '/params/arguments/days' },
    { name: 'a city longer than the listed maxLength (64)', args: { city: 'x'.repeat(65) }, pointer: '/params/arguments/city' },
    { name: 'no city (listed as required)', args: { days: 2 }, pointer: '/params/arguments' },
  ])('$name → 400 ERR_BODY_SCHEMA from the listed schema; the server never sees it', async ({ args, pointer }) => {
    const { client, exchanges } = await connect('agent-2');
    try {
      const calls = weather.toolCalls.length;
      const from = exchanges.length;
      const error = await client.callTool({ name: 'get_weather', arguments: args }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(StreamableHTTPError);
      expect((error as StreamableHTTPError).code).toBe(400);
      expect((error as Error).message).toContain('"code":"ERR_BODY_SCHEMA"');
      expect(weather.toolCalls.length).toBe(calls);
      const post = exchanges.slice(from).find((e) => e.method === 'POST');
      const [line] = await decisionsFor(stack, post?.requestId ?? '');
      expect(line).toMatchObject({ function: 'weather.mcp', outcome: 'deny', code: 'ERR_BODY_SCHEMA', payload: { jsonrpc: { tool: 'get_weather' } } });
      expect(JSON.stringify(line)).toContain(pointer);
    } finally {
      await client.close();
    }
  });
});
