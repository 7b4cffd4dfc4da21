/**
 * What a real MCP server built with the TypeScript SDK lists (McpServer + zod: draft-07 input schemas)
 * loads in callguard's schema compiler and validates tool arguments as the tool's zod schema means.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWeatherServer, type WeatherServer } from '../helpers/mcp-weather.js';
import { useSchemaFiles } from '../helpers/schema-files.js';

const { compile } = useSchemaFiles('callguard-mcp-draft07-');
let server: WeatherServer;
let listed: Map<string, unknown>;

beforeAll(async () => {
  server = await startWeatherServer();
  const client = new Client({ name: 'callguard-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${server.port}/mcp`)));
  try {
    listed = new Map((await client.listTools()).tools.map((t) => [t.name, t.inputSchema]));
  } finally {
    await client.close();
  }
});
afterAll(() => server.close());

describe('tools/list of an MCP TypeScript SDK server', () => {
  it('lists draft-07 input schemas (the premise)', () => {
    expect([...listed.keys()].sort()).toEqual(['delete_city', 'get_weather']);
    for (const schema of listed.values()) expect(schema).toMatchObject({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' });
  });

  it.each([
    { args: { city: 'Oslo' }, keywords: [] },
    { args: { city: 'Oslo', days: 7 }, keywords: [] },
    { args: {}, keywords: ['required'] },
    { args: { city: '' }, keywords: ['minLength'] },
    { args: { city: 'x'.repeat(65) }, keywords: ['maxLength'] },
    { args: { city: 'Oslo', days: 8 }, keywords: ['maximum'] },
    { args: { city: 'Oslo', days: 1.5 }, keywords: ['type'] },
  ])('get_weather $args → $keywords', ({ args, keywords }) => {
    expect(
      compile(listed.get('get_weather'))
        .validate(args)
        .map((v) => v.keyword),
    ).toEqual(keywords);
  });

  it('delete_city loads too', () => {
    const { validate } = compile(listed.get('delete_city'));
    expect(validate({ city: 'Oslo' })).toEqual([]);
    expect(validate({ city: 1 }).map((v) => v.keyword)).toEqual(['type']);
  });
});
