import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCallguard } from '../../src/build-callguard.js';
import { parseConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';
import { type Fixture, fixtureConfigYaml, startFixture } from '../helpers/callguard-fixture.js';
import { summarize } from '../helpers/envoy-check.js';
import { createTestIssuer, type TestIssuer } from '../helpers/jwt-issuer.js';
import { createMemoryDestination } from '../helpers/memory-destination.js';

type Json = Record<string, unknown>;
const SECRET = 'sk-live-hunter2';
const WEATHER_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['city'],
  properties: { city: { type: 'string', maxLength: 64 }, apiKey: { type: 'string' } },
};

let dir: string;
let issuer: TestIssuer;
let fx: Fixture;
const tokens: Record<string, string> = {};

function mcpFunction(schemaDir: string): Json {
  return {
    name: 'weather.mcp',
    match: { method: 'POST', path: '/mcp' },
    allow: [{ issuer: 'corp', groups: ['agents'] }],
    mcp: {
      tools: [
        {
          name: 'get_weather',
          allow: [{ issuer: 'corp', groups: ['agents'] }],
          schema: join(schemaDir, 'get_weather.json'),
          sensitive: ['/apiKey'],
          logFields: ['/city', '/apiKey'],
        },
        { name: 'delete_city', allow: [{ issuer: 'corp', subjects: ['admin'] }], schema: join(schemaDir, 'get_weather.json') },
      ],
    },
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'callguard-mcp-it-'));
  writeFileSync(join(dir, 'get_weather.json'), JSON.stringify(WEATHER_SCHEMA));
  issuer = await createTestIssuer();
  fx = await startFixture(issuer.jwksUrl, issuer.url, undefined, (config) => {
    (config['functions'] as Json[]).push(mcpFunction(dir));
  });
  tokens.agent = await issuer.mint({ claims: { sub: 'bot-1', groups: ['agents'] } });
  tokens.admin = await issuer.mint({ claims: { sub: 'admin', groups: ['agents'] } });
  tokens.reader = await issuer.mint({ claims: { sub: 'bob', groups: ['orders-readers'] } });
});
afterAll(async () => {
  await fx?.close();
  await issuer?.close();
  rmSync(dir, { recursive: true, force: true });
});

const rpc = (method: string, params?: Json, id: number | null = 1): string =>
  JSON.stringify({ jsonrpc: '2.0', ...(id === null ? {} : { id }), method, ...(params === undefined ? {} : { params }) });
const toolCall = (name: string, args: Json): string => rpc('tools/call', { name, arguments: args });

async function check(body: string | undefined, token = 'agent', method = 'POST') {
  const before = fx.log.lines.length;
  const res = summarize(
    await fx.client.check({
      method,
      path: '/mcp',
      headers: { authorization: `Bearer ${tokens[token]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body }),
    }),
  );
  expect(fx.log.lines.length).toBe(before + 1);
  return { res, line: fx.log.lines.at(-1) as Json };
}

describe('MCP endpoint through the real gRPC Check server', () => {
  it.each([
    {
      name: 'initialize',
      body: rpc('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } }),
      jsonrpc: { method: 'initialize' },
    },
    { name: 'notifications/initialized', body: rpc('notifications/initialized', undefined, null), jsonrpc: { method: 'notifications/initialized' } },
    { name: 'tools/list', body: rpc('tools/list'), jsonrpc: { method: 'tools/list' } },
    { name: 'an allowed tool call', body: toolCall('get_weather', { city: 'Oslo' }), jsonrpc: { method: 'tools/call', tool: 'get_weather' } },
  ])('$name → allowed, logged with its method', async ({ body, jsonrpc }) => {
    const { res, line } = await check(body);
    expect(res.allow).toBe(true);
    expect(res.allow && res.headers['x-callguard-function']).toBe('weather.mcp');
    expect(line).toMatchObject({ outcome: 'allow', function: 'weather.mcp', payload: { jsonrpc } });
  });

  it.each([
    { name: 'a batch', body: `[${toolCall('get_weather', { city: 'Oslo' })}]`, status: 400, code: 'ERR_JSONRPC_BATCH' },
    { name: 'no jsonrpc member', body: JSON.stringify({ id: 1, method: 'tools/list' }), status: 400, code: 'ERR_JSONRPC_INVALID' },
    {
      name: 'duplicate keys',
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_weather","name":"delete_city","arguments":{"city":"x"}}}',
      status: 400,
      code: 'ERR_BODY_INVALID_JSON',
    },
    { name: 'Tools/Call', body: rpc('Tools/Call', { name: 'get_weather', arguments: { city: 'Oslo' } }), status: 400, code: 'ERR_MCP_METHOD_CASE' },
    { name: 'resources/list (not allowed by default)', body: rpc('resources/list'), status: 403, code: 'ERR_MCP_METHOD' },
    { name: 'an unknown tool', body: toolCall('drop_tables', {}), status: 400, code: 'ERR_MCP_TOOL_UNKNOWN' },
    { name: 'a confusable tool (Cyrillic е)', body: toolCall('get_w\u0435ather', { city: 'Oslo' }), status: 400, code: 'ERR_MCP_TOOL_CONFUSABLE' },
    { name: 'a tool the agent may not call', body: toolCall('delete_city', { city: 'Oslo' }), status: 403, code: 'ERR_NOT_PERMITTED' },
    { name: 'invalid arguments', body: toolCall('get_weather', { city: 'Oslo', days: 3 }), status: 400, code: 'ERR_BODY_SCHEMA' },
  ])('$name → $status $code', async ({ body, status, code }) => {
    const { res, line } = await check(body);
    expect(res.allow ? 200 : [res.status, res.problem.code]).toEqual([status, code]);
    expect(line).toMatchObject({ outcome: 'deny', function: 'weather.mcp', code, status });
  });

  it('the tool admin may call: allowed for admin only', async () => {
    expect((await check(toolCall('delete_city', { city: 'Oslo' }), 'admin')).res.allow).toBe(true);
  });

  it("a caller the function's rules refuse never reaches tool selection (ERR_NOT_PERMITTED, no payload facts)", async () => {
    const { res, line } = await check(toolCall('get_weather', { city: 'Oslo' }), 'reader');
    expect(res.allow ? 200 : res.problem.code).toBe('ERR_NOT_PERMITTED');
    expect(line['payload']).toBeUndefined();
  });

  it('GET (SSE stream) → 405 ERR_MCP_HTTP_METHOD; DELETE (end of session) → allowed', async () => {
    const get = await check(undefined, 'agent', 'GET');
    expect(get.res.allow ? 200 : [get.res.status, get.res.problem.code]).toEqual([405, 'ERR_MCP_HTTP_METHOD']);
    const del = await check(undefined, 'agent', 'DELETE');
    expect(del.res.allow).toBe(true);
    expect(del.line).toMatchObject({ outcome: 'allow', function: 'weather.mcp' });
  });

  it('the decision line names the tool and masked logFields, never other argument values', async () => {
    const allowed = await check(toolCall('get_weather', { city: 'Oslo', apiKey: SECRET }));
    expect(allowed.line).toMatchObject({
      payload: { jsonrpc: { method: 'tools/call', tool: 'get_weather' }, fields: { '/city': 'Oslo', '/apiKey': '[masked]' } },
    });
    const denied = await check(toolCall('get_weather', { city: SECRET.repeat(10), apiKey: SECRET }));
    expect(denied.line).toMatchObject({ code: 'ERR_BODY_SCHEMA', violations: [{ pointer: '/params/arguments/city', keyword: 'maxLength' }] });
    const odd = await check(toolCall(`x ${SECRET}`, {}));
    expect(odd.line).toMatchObject({ code: 'ERR_MCP_TOOL_CONFUSABLE', payload: { jsonrpc: { tool: '[redacted]' } } });
    for (const { line, res } of [allowed, denied, odd]) {
      expect(JSON.stringify(line)).not.toContain(SECRET);
      expect(JSON.stringify(res)).not.toContain(SECRET);
    }
  });
});

describe('MCP endpoint config', () => {
  it.each([
    {
      name: 'input next to mcp, a GET match, a tool rule naming an unknown source',
      change: (fn: Json) => {
        fn['input'] = { schema: 'orders.json' };
        fn['match'] = { method: 'GET', path: '/mcp' };
        ((fn['mcp'] as Json)['tools'] as Json[])[0]!['allow'] = [{ issuer: 'nobody', subjects: ['x'] }];
      },
      problems: ['/functions/5/match/method', '/functions/5/mcp', '/functions/5/mcp/tools/0/allow/0/issuer'],
    },
    {
      name: 'a method outside MCP, a tool name outside MCP tool names',
      change: (fn: Json) => {
        (fn['mcp'] as Json)['methods'] = ['tools/call'];
        ((fn['mcp'] as Json)['tools'] as Json[])[1]!['name'] = 'delete city';
      },
      problems: ['/functions/5/mcp/methods/0', '/functions/5/mcp/tools/1/name'],
    },
    {
      name: 'another function on GET /mcp (the MCP endpoint answers GET there too)',
      change: (_fn: Json, functions: Json[]) => {
        functions.push({ name: 'mcp.get', match: { method: 'GET', path: '/mcp' }, allow: [{ issuer: 'corp', subjects: ['x'] }] });
      },
      problems: ['/functions/6/match'],
    },
  ])('$name: every problem listed at once', async ({ change, problems }) => {
    const config = parseYaml((parsed) => {
      const fn = mcpFunction(dir);
      const functions = parsed['functions'] as Json[];
      functions.push(fn);
      change(fn, functions);
    });
    const found = await config.then(
      (c) => buildCallguard(c, { decisionLog: createMemoryDestination().stream }).then((cg) => cg.close().then(() => [])),
      (err: unknown) => (err instanceof ConfigError ? err.problems.map((p) => p.path) : [String(err)]),
    );
    expect([...new Set(found)].sort()).toEqual(problems);
  });
});

async function parseYaml(customize: (parsed: Json) => void) {
  const { parse, stringify } = await import('yaml');
  const parsed = parse(fixtureConfigYaml(issuer.jwksUrl, issuer.url)) as Json;
  customize(parsed);
  writeFileSync(join(dir, 'orders.json'), '{"type":"object"}');
  return parseConfig(stringify(parsed), join(dir, 'callguard.yaml'));
}
