import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionConfig, McpConfig } from '../../../../src/config/types.js';
import { ConfigError } from '../../../../src/errors.js';
import { functionMethods } from '../../../../src/functions/function-registry.js';
import { inspectPayload } from '../../../../src/payload/inspect-payload.js';
import { createSchemaCompiler } from '../../../../src/payload/json/compile-input.js';
import { compileMcpEndpoint } from '../../../../src/payload/jsonrpc/compile-mcp-endpoint.js';
import type { PayloadInspector } from '../../../../src/payload/payload-inspector.js';
import { createFunctionPayloadCompiler } from '../../../../src/payload/payload-kinds.js';
import type { Caller } from '../../../../src/principal.js';
import { mcpFunctionConfig } from '../../../helpers/mcp-function.js';
import { jwtPrincipal } from '../../../helpers/principals.js';

const SECRET = 'hunter2-secret';
const LIMITS = { maxDepth: 16 };
const SOURCES = new Map([['corp', 'jwt' as const]]);
const alice: Caller = { credential: jwtPrincipal('corp', 'alice', ['agents']) };
const bob: Caller = { credential: jwtPrincipal('corp', 'bob', ['agents']) };

let dir: string;
let endpoint: PayloadInspector;

function mcpFunction(tools: McpConfig['tools'], methods?: string[]): FunctionConfig & { mcp: McpConfig } {
  return mcpFunctionConfig({ tools, ...(methods !== undefined ? { methods } : {}) });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'callguard-mcp-'));
  writeFileSync(
    join(dir, 'get_weather.json'),
    JSON.stringify({
      type: 'object',
      additionalProperties: false,
      required: ['city'],
      properties: { city: { type: 'string', maxLength: 64 }, apiKey: { type: 'string' }, days: { type: 'integer', minimum: 1, maximum: 7 } },
    }),
  );
  writeFileSync(join(dir, 'send_email.json'), JSON.stringify({ type: 'object', required: ['to'], properties: { to: { type: 'string' } } }));
  const compiled = createFunctionPayloadCompiler('/etc/callguard.yaml', SOURCES)(
    mcpFunction([
      {
        name: 'get_weather',
        allow: [{ issuer: 'corp', groups: ['agents'] }],
        schema: join(dir, 'get_weather.json'),
        sensitive: ['/apiKey'],
        logFields: ['/city', '/apiKey'],
      },
      { name: 'send_email', allow: [{ issuer: 'corp', subjects: ['alice'] }], schema: join(dir, 'send_email.json'), sensitive: [], logFields: [] },
    ]),
    '/functions/0',
  );
  if (compiled === undefined) throw new Error('an MCP function compiles to an inspector');
  endpoint = compiled;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NO_ID = Symbol('notification');
const rpc = (method: string, params?: unknown, id: unknown = 1): string =>
  JSON.stringify({ jsonrpc: '2.0', ...(id === NO_ID ? {} : { id }), method, ...(params === undefined ? {} : { params }) });
const call = (name: string, args?: unknown): string => rpc('tools/call', args === undefined ? { name } : { name, arguments: args });
const post = (body: string, caller: Caller = alice, contentType = 'application/json') =>
  inspectPayload(endpoint, { bytes: new TextEncoder().encode(body), partial: false }, contentType, LIMITS, undefined, { method: 'POST', caller });
const bodiless = (method: string, body?: string) =>
  inspectPayload(
    endpoint,
    { bytes: body === undefined ? undefined : new TextEncoder().encode(body), partial: false },
    body && 'application/json',
    LIMITS,
    undefined,
    {
      method,
      caller: alice,
    },
  );

describe('MCP kind: allowed', () => {
  it.each([
    {
      name: 'initialize',
      body: rpc('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } }),
      jsonrpc: { method: 'initialize' },
    },
    { name: 'notifications/initialized', body: rpc('notifications/initialized', undefined, NO_ID), jsonrpc: { method: 'notifications/initialized' } },
    { name: 'tools/list', body: rpc('tools/list', {}), jsonrpc: { method: 'tools/list' } },
    { name: 'a tool call', body: call('get_weather', { city: 'Oslo', days: 3 }), jsonrpc: { method: 'tools/call', tool: 'get_weather' } },
    {
      name: 'a tool call with _meta',
      body: rpc('tools/call', { name: 'send_email', arguments: { to: 'x' }, _meta: { progressToken: 1 } }),
      jsonrpc: { method: 'tools/call', tool: 'send_email' },
    },
  ])('$name', ({ body, jsonrpc }) => {
    const result = post(body);
    expect(result).toMatchObject({ ok: true, summary: { contentType: 'application/json', jsonrpc } });
  });

  it('records masked logFields of the arguments (pointers into arguments), nothing else', () => {
    const result = post(call('get_weather', { city: 'Oslo', apiKey: SECRET, days: 2 }));
    expect(result).toMatchObject({ ok: true, summary: { fields: { '/city': 'Oslo', '/apiKey': '[masked]' } } });
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  it('DELETE without a body ends a session', () => {
    expect(bodiless('DELETE')).toMatchObject({ ok: true });
  });
});

describe('MCP kind: denied', () => {
  it.each([
    { name: 'a batch', body: `[${call('get_weather', { city: 'Oslo' })}]`, code: 'ERR_JSONRPC_BATCH' },
    { name: 'jsonrpc "1.0"', body: JSON.stringify({ jsonrpc: '1.0', id: 1, method: 'tools/list' }), code: 'ERR_JSONRPC_INVALID' },
    { name: 'params an array', body: rpc('tools/call', ['get_weather']), code: 'ERR_JSONRPC_INVALID' },
    { name: 'id null', body: rpc('tools/list', {}, null), code: 'ERR_JSONRPC_INVALID' },
    { name: 'duplicate keys (strict JSON)', body: '{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call"}', code: 'ERR_BODY_INVALID_JSON' },
    {
      name: 'duplicate tool name key',
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_weather","name":"send_email","arguments":{"city":"x"}}}',
      code: 'ERR_BODY_INVALID_JSON',
    },
    { name: 'Tools/Call', body: rpc('Tools/Call', { name: 'get_weather', arguments: { city: 'Oslo' } }), code: 'ERR_MCP_METHOD_CASE' },
    { name: 'a method not listed (ping)', body: rpc('ping'), code: 'ERR_MCP_METHOD' },
    { name: 'resources/read', body: rpc('resources/read', { uri: 'file:///etc/passwd' }), code: 'ERR_MCP_METHOD' },
    {
      name: 'tools/call as a notification',
      body: rpc('tools/call', { name: 'get_weather', arguments: { city: 'Oslo' } }, NO_ID),
      code: 'ERR_JSONRPC_INVALID',
    },
    { name: 'a notification with an id', body: rpc('notifications/initialized', undefined, 5), code: 'ERR_JSONRPC_INVALID' },
    { name: 'tools/call without params', body: rpc('tools/call'), code: 'ERR_JSONRPC_INVALID' },
    { name: 'tool name not a string', body: rpc('tools/call', { name: 7 }), code: 'ERR_JSONRPC_INVALID' },
    { name: 'arguments an array', body: call('get_weather', ['Oslo']), code: 'ERR_JSONRPC_INVALID' },
    { name: 'arguments null', body: call('get_weather', null), code: 'ERR_JSONRPC_INVALID' },
    { name: '_meta not an object', body: rpc('tools/call', { name: 'send_email', arguments: { to: 'x' }, _meta: 'x' }), code: 'ERR_JSONRPC_INVALID' },
    {
      name: 'an extra params member',
      body: rpc('tools/call', { name: 'get_weather', arguments: { city: 'x' }, tool: 'send_email' }),
      code: 'ERR_JSONRPC_INVALID',
    },
    { name: 'an unknown tool', body: call('delete_all', {}), code: 'ERR_MCP_TOOL_UNKNOWN' },
    { name: 'a case-folded tool', body: call('Get_Weather', { city: 'Oslo' }), code: 'ERR_MCP_TOOL_CONFUSABLE' },
    { name: 'a homoglyph tool', body: call('s\u0435nd_email', { to: 'x' }), code: 'ERR_MCP_TOOL_CONFUSABLE' },
    { name: 'a tool bob may not call', body: call('send_email', { to: 'x' }), caller: bob, code: 'ERR_NOT_PERMITTED' },
    { name: 'arguments against the schema', body: call('get_weather', { city: 'Oslo', days: 30 }), code: 'ERR_BODY_SCHEMA' },
    { name: 'arguments absent but required', body: call('get_weather'), code: 'ERR_BODY_SCHEMA' },
    { name: 'not JSON content type', body: rpc('tools/list', {}), contentType: 'text/plain', code: 'ERR_CONTENT_TYPE' },
  ])('$name → $code', ({ body, code, caller, contentType }) => {
    const result = post(body, caller ?? alice, contentType);
    expect(result.ok ? undefined : result.code).toBe(code);
  });

  it('GET (a server stream) → ERR_MCP_HTTP_METHOD (405); other methods never route here (functionMethods)', () => {
    expect(bodiless('GET')).toMatchObject({ ok: false, code: 'ERR_MCP_HTTP_METHOD' });
  });

  it('the HTTP methods it judges are the ones its route adds (functionMethods)', () => {
    const added = functionMethods(mcpFunction([])).filter((m) => m !== 'POST');
    expect([...(endpoint.otherMethods?.keys() ?? [])].sort()).toEqual(added.sort());
  });

  it('DELETE with a body → ERR_CONTENT_TYPE', () => {
    expect(bodiless('DELETE', rpc('tools/list'))).toMatchObject({ ok: false, code: 'ERR_CONTENT_TYPE' });
  });

  it('without the call (no caller to match a tool rule against) a tool call is refused', () => {
    const bytes = new TextEncoder().encode(call('get_weather', { city: 'Oslo' }));
    expect(inspectPayload(endpoint, { bytes, partial: false }, 'application/json', LIMITS)).toMatchObject({ ok: false, code: 'ERR_NOT_PERMITTED' });
  });

  it('schema violations point into params.arguments, cut at sensitive pointers, no values', () => {
    const result = post(call('get_weather', { city: SECRET.repeat(10), apiKey: 5 }));
    expect(result).toMatchObject({ ok: false, code: 'ERR_BODY_SCHEMA', detail: 'the request body does not match the schema (2 violations)' });
    if (result.ok) return;
    expect(result.violations.map((v) => v.pointer).sort()).toEqual(['/params/arguments/apiKey', '/params/arguments/city']);
    expect(result.summary).toEqual({ contentType: 'application/json', bytes: expect.any(Number), jsonrpc: { method: 'tools/call', tool: 'get_weather' } });
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  it('a tool the caller may not call: the internal reason names the tool and rule, never argument values', () => {
    const result = post(call('send_email', { to: SECRET }), bob);
    expect(result).toMatchObject({ ok: false, code: 'ERR_NOT_PERMITTED', internal: 'tool "send_email": rule 0: subject and groups not listed' });
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  it.each([
    { name: 'a non-ASCII tool', body: call('\u043F\u043E\u0433\u043E\u0434\u0430', {}), jsonrpc: { method: 'tools/call', tool: '[redacted]' } },
    { name: 'a tool name holding a secret with spaces', body: call(`token ${SECRET}`, {}), jsonrpc: { method: 'tools/call', tool: '[redacted]' } },
    { name: 'an odd method', body: rpc(`x ${SECRET}`), jsonrpc: { method: '[redacted]' } },
    { name: 'an unknown plain tool', body: call('delete_all', {}), jsonrpc: { method: 'tools/call', tool: 'delete_all' } },
  ])('log-safe names: $name', ({ body, jsonrpc }) => {
    const result = post(body);
    expect(result.summary.jsonrpc).toEqual(jsonrpc);
    expect(JSON.stringify(result.summary)).not.toContain(SECRET);
  });
});

describe('MCP kind: digest (part of the policy digest)', () => {
  const compileWith = (name: string, schema: string): PayloadInspector | undefined =>
    createFunctionPayloadCompiler('/etc/callguard.yaml', SOURCES)(
      mcpFunction([{ name, allow: [{ issuer: 'corp', groups: ['agents'] }], schema: join(dir, schema), sensitive: [], logFields: [] }]),
      '/functions/0',
    );

  it('changes with a tool schema file and a tool name, not with a recompile', () => {
    writeFileSync(join(dir, 'digest.json'), JSON.stringify({ type: 'object' }));
    const first = compileWith('lookup', 'digest.json')?.digest;
    expect(compileWith('lookup', 'digest.json')?.digest).toBe(first);
    expect(compileWith('lookup2', 'digest.json')?.digest).not.toBe(first);
    writeFileSync(join(dir, 'digest.json'), JSON.stringify({ type: 'object', maxProperties: 3 }));
    expect(compileWith('lookup', 'digest.json')?.digest).not.toBe(first);
  });
});

describe('MCP kind: a tool schema that throws on a body', () => {
  it('denies with ERR_BODY_SCHEMA_FAULT, the log detail naming the tool and its file (never a crash)', () => {
    // A cycle through an `$id` reference: not followed at load, ajv compiles it, every `x` overflows the stack.
    const cycle = {
      type: 'object',
      properties: { x: { $ref: 'https://loop.test/a' } },
      $defs: { a: { $id: 'https://loop.test/a', type: 'integer', allOf: [{ $ref: 'https://loop.test/a' }] } },
    };
    writeFileSync(join(dir, 'cycle.json'), JSON.stringify(cycle));
    const inspector = createFunctionPayloadCompiler('/etc/callguard.yaml', SOURCES)(
      mcpFunction([{ name: 'loop', allow: [{ issuer: 'corp', groups: ['agents'] }], schema: join(dir, 'cycle.json'), sensitive: [], logFields: [] }]),
      '/functions/0',
    );
    if (inspector === undefined) throw new Error('an MCP function compiles to an inspector');
    const bytes = new TextEncoder().encode(call('loop', { x: 1 }));
    const result = inspectPayload(inspector, { bytes, partial: false }, 'application/json', LIMITS, undefined, { method: 'POST', caller: alice });
    expect(result).toMatchObject({ ok: false, code: 'ERR_BODY_SCHEMA_FAULT', summary: { jsonrpc: { method: 'tools/call', tool: 'loop' } } });
    expect(result.ok ? '' : result.internal).toMatch(/tool "loop" \(.*cycle\.json\): Maximum call stack size exceeded/);
  });
});

describe('compileMcpEndpoint', () => {
  it('lists every problem at once: tools confusable with each other, bad schema files, bad pointers', () => {
    const schema = join(dir, 'send_email.json');
    const fn = mcpFunction([
      { name: 'send_email', allow: [], schema, sensitive: [], logFields: [] },
      { name: 'Send_Email', allow: [], schema, sensitive: [], logFields: [] },
      { name: 'lookup', allow: [], schema: join(dir, 'missing.json'), sensitive: ['not-a-pointer'], logFields: [] },
    ]);
    let problems: readonly { path: string; message: string }[] = [];
    try {
      compileMcpEndpoint(fn, createSchemaCompiler(), SOURCES, '/etc/callguard.yaml', '/functions/3/mcp');
    } catch (err) {
      if (err instanceof ConfigError) problems = err.problems;
    }
    expect(problems.map((p) => p.path).sort()).toEqual([
      '/functions/3/mcp/tools/1/name',
      '/functions/3/mcp/tools/2/schema',
      '/functions/3/mcp/tools/2/sensitive/0',
    ]);
    expect(problems.find((p) => p.path.endsWith('/name'))?.message).toBe('"Send_Email" is confusable with tool "send_email"');
  });
});
