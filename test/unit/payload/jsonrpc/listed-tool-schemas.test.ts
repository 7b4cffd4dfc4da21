import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionConfig, McpConfig, McpToolConfig } from '../../../../src/config/types.js';
import { ConfigError, type ConfigProblem } from '../../../../src/errors.js';
import { inspectPayload } from '../../../../src/payload/inspect-payload.js';
import type { ListedTool } from '../../../../src/payload/jsonrpc/list-mcp-tools.js';
import type { ToolListing } from '../../../../src/payload/jsonrpc/list-tool-servers.js';
import type { PayloadInspector } from '../../../../src/payload/payload-inspector.js';
import { createFunctionPayloadCompiler } from '../../../../src/payload/payload-kinds.js';
import type { Caller } from '../../../../src/principal.js';
import { mcpFunctionConfig } from '../../../helpers/mcp-function.js';
import { jwtPrincipal } from '../../../helpers/principals.js';

const URL = 'https://weather.internal:8443/mcp';
const SOURCES = new Map([['corp', 'jwt' as const]]);
const alice: Caller = { credential: jwtPrincipal('corp', 'alice', ['agents']) };
const AGENTS = [{ issuer: 'corp', groups: ['agents'] }];
// What the MCP TypeScript SDK's McpServer lists for a zod input schema (measured with SDK 1.32.2), as 2020-12.
const GET_WEATHER = {
  type: 'object',
  properties: { city: { type: 'string', minLength: 1, maxLength: 64 }, days: { type: 'integer', minimum: 1, maximum: 7 } },
  required: ['city'],
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'callguard-listed-'));
  writeFileSync(join(dir, 'reviewed.json'), JSON.stringify({ type: 'object', additionalProperties: false, properties: { path: { type: 'string' } } }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tool = (name: string, rest: Partial<McpToolConfig> = {}): McpToolConfig => ({ name, allow: AGENTS, sensitive: [], logFields: [], ...rest });
const listed = (schemas: Record<string, unknown>): ToolListing => ({
  ok: true,
  url: URL,
  trust: [],
  tools: new Map(
    Object.entries(schemas).map(([name, inputSchema]): [string, ListedTool] => [
      name,
      { name, inputSchema, digest: createHash('sha256').update(JSON.stringify(inputSchema)).digest('base64url') },
    ]),
  ),
});
const failed: ToolListing = { ok: false, url: URL, why: `${URL} connect: ECONNREFUSED`, config: false };

function mcpFunction(tools: McpToolConfig[], server = true): FunctionConfig & { mcp: McpConfig } {
  return mcpFunctionConfig({ tools, ...(server ? { server: { url: URL, ca: '/etc/ca.pem', timeoutMs: 5000, retryMs: 1000 } } : {}) });
}

function compile(tools: McpToolConfig[], listing: ToolListing | undefined, server = true): PayloadInspector {
  const listings = listing === undefined ? new Map<string, ToolListing>() : new Map([['weather-mcp', listing]]);
  const inspector = createFunctionPayloadCompiler('/etc/callguard.yaml', SOURCES, listings)(mcpFunction(tools, server), '/functions/2');
  if (inspector === undefined) throw new Error('an MCP function compiles to an inspector');
  return inspector;
}

function problemsOf(tools: McpToolConfig[], listing: ToolListing | undefined, server = true): ConfigProblem[] {
  try {
    compile(tools, listing, server);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const callTool = (inspector: PayloadInspector, name: string, args: unknown) =>
  inspectPayload(
    inspector,
    { bytes: new TextEncoder().encode(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } })), partial: false },
    'application/json',
    { maxDepth: 16 },
    undefined,
    { method: 'POST', caller: alice },
  );

describe('MCP tools without a schema file: the schema their server lists (mcp.server)', () => {
  it.each([
    { name: 'valid arguments', args: { city: 'Oslo', days: 3 }, outcome: { ok: true } },
    { name: 'a missing required argument', args: { days: 3 }, outcome: { ok: false, code: 'ERR_BODY_SCHEMA' } },
    { name: 'an argument out of range', args: { city: 'Oslo', days: 30 }, outcome: { ok: false, code: 'ERR_BODY_SCHEMA' } },
    { name: 'an argument of the wrong type', args: { city: 7 }, outcome: { ok: false, code: 'ERR_BODY_SCHEMA' } },
  ])('validates tools/call arguments against the listed inputSchema: $name', ({ args, outcome }) => {
    const inspector = compile([tool('get_weather')], listed({ get_weather: GET_WEATHER, delete_city: { type: 'object' } }));
    expect(callTool(inspector, 'get_weather', args)).toMatchObject(outcome);
  });

  it('names the listed schema and the tool in the policy digest: a changed listing changes it', () => {
    const first = compile([tool('get_weather')], listed({ get_weather: GET_WEATHER })).digest;
    expect(compile([tool('get_weather')], listed({ get_weather: GET_WEATHER })).digest).toBe(first);
    expect(compile([tool('get_weather')], listed({ get_weather: { ...GET_WEATHER, additionalProperties: false } })).digest).not.toBe(first);
    expect(compile([tool('get_weather')], failed).digest).not.toBe(first);
  });

  it('a tool the server lists but the config does not name stays unknown (the list gives schemas, never permission)', () => {
    const inspector = compile([tool('get_weather')], listed({ get_weather: GET_WEATHER, delete_city: { type: 'object' } }));
    expect(callTool(inspector, 'delete_city', { city: 'Oslo' })).toMatchObject({ ok: false, code: 'ERR_MCP_TOOL_UNKNOWN' });
  });

  it('a schema file wins over the listing (the schema as reviewed)', () => {
    const inspector = compile(
      [tool('get_weather'), tool('read_file', { schema: join(dir, 'reviewed.json') })],
      listed({ get_weather: GET_WEATHER, read_file: { type: 'object' } }),
    );
    expect(callTool(inspector, 'read_file', { path: '/etc/passwd', mode: 'w' })).toMatchObject({ ok: false, code: 'ERR_BODY_SCHEMA' });
  });

  it('a failed listing refuses only the tools that need it (ERR_MCP_TOOLS_UNAVAILABLE, 503); a tool with a file is unaffected', () => {
    const inspector = compile([tool('get_weather'), tool('read_file', { schema: join(dir, 'reviewed.json') })], failed);
    const refused = callTool(inspector, 'get_weather', { city: 'Oslo' });
    expect(refused).toMatchObject({ ok: false, code: 'ERR_MCP_TOOLS_UNAVAILABLE', summary: { jsonrpc: { method: 'tools/call', tool: 'get_weather' } } });
    expect(refused.ok ? '' : refused.internal).toBe(`tool "get_weather": ${URL} connect: ECONNREFUSED`);
    expect(callTool(inspector, 'read_file', { path: '/tmp/x' })).toMatchObject({ ok: true });
    // The refusal comes before the arguments are looked at: invalid ones are refused the same way.
    expect(callTool(inspector, 'get_weather', { nope: true })).toMatchObject({ ok: false, code: 'ERR_MCP_TOOLS_UNAVAILABLE' });
  });

  it.each([
    {
      name: 'a configured tool the server does not list',
      tools: [tool('get_weather'), tool('get_forecast')],
      listing: listed({ get_weather: GET_WEATHER, delete_city: { type: 'object' } }),
      problems: [
        { path: '/functions/2/mcp/tools/1/name', message: `the MCP server ${URL} does not list tool "get_forecast" (it lists: get_weather, delete_city)` },
      ],
    },
    {
      name: 'a tool without a schema file and no server',
      tools: [tool('get_weather')],
      listing: undefined,
      server: false,
      problems: [{ path: '/functions/2/mcp/tools/0', message: 'needs "schema" (a file), or "server" on the mcp block to list it' }],
    },
    {
      name: 'a listed schema that does not compile, named by where it came from',
      tools: [tool('get_weather')],
      listing: listed({ get_weather: { type: 'object', properties: { city: { type: 'strng' } } } }),
      problems: [
        { file: `${URL} tools/list "get_weather" inputSchema`, path: '/functions/2/mcp/tools/0/schema' },
        {
          path: '/functions/2/mcp/tools/0',
          message: 'the inputSchema its server lists cannot be used (see above): give "get_weather" a reviewed "schema" file',
        },
      ],
    },
    {
      name: 'a draft-07 tuple (what the SDK lists for z.tuple): refused, with the way out',
      tools: [tool('get_weather')],
      listing: listed({
        get_weather: {
          $schema: 'http://json-schema.org/draft-07/schema#',
          type: 'object',
          properties: { at: { type: 'array', items: [{ type: 'number' }, { type: 'number' }], additionalItems: false } },
        },
      }),
      problems: [
        { file: `${URL} tools/list "get_weather" inputSchema`, path: '/functions/2/mcp/tools/0/schema' },
        { path: '/functions/2/mcp/tools/0', message: expect.stringContaining('give "get_weather" a reviewed "schema" file') },
      ],
    },
    {
      name: 'a listed schema with a construct callguard refuses',
      tools: [tool('get_weather')],
      listing: listed({ get_weather: { type: 'object', $dynamicRef: '#meta' } }),
      problems: [{ file: `${URL} tools/list "get_weather" inputSchema`, path: '/functions/2/mcp/tools/0/schema' }],
    },
    {
      name: 'what the server wrote is quoted in printable ASCII only (no forged lines, no terminal escapes)',
      tools: [tool('get_weather')],
      listing: listed({ get_weather: { type: 'object', properties: { 'x\n  /etc/x: /fake: \u001b[31mFORGED': { type: 'strng' } } } }),
      problems: [{ file: `${URL} tools/list "get_weather" inputSchema`, message: expect.stringMatching(/^[\x20-\x7e]+$/) }],
      everyMessagePrintable: true,
    },
    {
      name: 'names the server lists are quoted only when they are plain tool names',
      tools: [tool('get_weather')],
      listing: listed({ 'evil\u001b[2Jname': { type: 'object' } }),
      problems: [{ path: '/functions/2/mcp/tools/0/name', message: `the MCP server ${URL} does not list tool "get_weather" (it lists: none)` }],
    },
  ])('a config problem naming the tool: $name', ({ tools, listing, server = true, problems, everyMessagePrintable = false }) => {
    const found = problemsOf(tools, listing, server);
    if (everyMessagePrintable) for (const p of found) expect(p.message).toMatch(/^[\x20-\x7e]+$/);
    expect(found.length).toBeGreaterThanOrEqual(problems.length);
    for (const expected of problems) expect(found).toContainEqual(expect.objectContaining(expected));
  });
});
