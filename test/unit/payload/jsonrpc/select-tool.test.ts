import { describe, expect, it } from 'vitest';
import configSchema from '../../../../src/config/schema.json' with { type: 'json' };
import { checkMethod, MCP_CLIENT_METHODS } from '../../../../src/payload/jsonrpc/mcp-methods.js';
import { nameSkeleton } from '../../../../src/payload/jsonrpc/name-skeleton.js';
import { createToolSelector } from '../../../../src/payload/jsonrpc/select-tool.js';

const select = createToolSelector([{ name: 'get_weather' }, { name: 'send_email' }, { name: 'Lookup.v2' }]);

describe('createToolSelector', () => {
  it.each([
    { name: 'get_weather', tool: 'get_weather' },
    { name: 'send_email', tool: 'send_email' },
    { name: 'Lookup.v2', tool: 'Lookup.v2' },
  ])('$name → selected exactly', ({ name, tool }) => {
    const result = select(name);
    expect(result.ok && result.tool.name).toBe(tool);
  });

  it.each([
    { name: 'case: Get_Weather', tool: 'Get_Weather', code: 'ERR_MCP_TOOL_CONFUSABLE', imitates: 'get_weather' },
    { name: 'case: GET_WEATHER', tool: 'GET_WEATHER', code: 'ERR_MCP_TOOL_CONFUSABLE', imitates: 'get_weather' },
    { name: 'case: lookup.v2', tool: 'lookup.v2', code: 'ERR_MCP_TOOL_CONFUSABLE', imitates: 'Lookup.v2' },
    { name: 'Cyrillic е (U+0435)', tool: 'get_w\u0435ather', code: 'ERR_MCP_TOOL_CONFUSABLE', imitates: 'get_weather' },
    { name: 'Cyrillic а and о', tool: 'get_we\u0430ther', code: 'ERR_MCP_TOOL_CONFUSABLE', imitates: 'get_weather' },
    { name: 'Greek ο in send', tool: 'send_em\u03B1il', code: 'ERR_MCP_TOOL_CONFUSABLE', imitates: 'send_email' },
    { name: 'fullwidth letters (NFKC)', tool: '\uFF47et_weather', code: 'ERR_MCP_TOOL_CONFUSABLE', imitates: 'get_weather' },
    { name: 'a zero-width space', tool: 'get_\u200Bweather', code: 'ERR_MCP_TOOL_CONFUSABLE', imitates: 'get_weather' },
    { name: 'a combining accent', tool: 'get_we\u0301ather', code: 'ERR_MCP_TOOL_CONFUSABLE', imitates: 'get_weather' },
    { name: 'precomposed é', tool: 'get_w\u00E9ather', code: 'ERR_MCP_TOOL_CONFUSABLE', imitates: 'get_weather' },
    { name: 'ASCII look-alikes: 1 for l', tool: 'send_emai1', code: 'ERR_MCP_TOOL_CONFUSABLE', imitates: 'send_email' },
    { name: 'ASCII look-alikes: rn for m', tool: 'send_ernail', code: 'ERR_MCP_TOOL_CONFUSABLE', imitates: 'send_email' },
    { name: 'ASCII look-alikes: 0 for o (and I for l)', tool: 'I0okup.v2', code: 'ERR_MCP_TOOL_CONFUSABLE', imitates: 'Lookup.v2' },
    { name: 'Kelvin sign in an unknown name', tool: '\u212Aill', code: 'ERR_MCP_TOOL_CONFUSABLE', imitates: undefined },
    { name: 'non-ASCII unlike any tool', tool: 'погода', code: 'ERR_MCP_TOOL_CONFUSABLE', imitates: undefined },
    { name: 'a space', tool: 'get weather', code: 'ERR_MCP_TOOL_CONFUSABLE', imitates: undefined },
    { name: 'empty', tool: '', code: 'ERR_MCP_TOOL_CONFUSABLE', imitates: undefined },
    { name: 'a control character', tool: 'get_weather\n', code: 'ERR_MCP_TOOL_CONFUSABLE', imitates: undefined },
    { name: 'too long', tool: 'x'.repeat(129), code: 'ERR_MCP_TOOL_CONFUSABLE', imitates: undefined },
    { name: 'an unknown plain name', tool: 'delete_everything', code: 'ERR_MCP_TOOL_UNKNOWN', imitates: undefined },
    { name: 'hyphen for underscore is another name', tool: 'get-weather', code: 'ERR_MCP_TOOL_UNKNOWN', imitates: undefined },
  ])('$name → $code', ({ tool, code, imitates }) => {
    const result = select(tool);
    expect(result.ok ? undefined : result.code).toBe(code);
    if (result.ok) return;
    expect(result.internal).toBe(imitates === undefined ? undefined : `imitates tool "${imitates}"`);
    if (imitates === undefined) expect(result.detail).not.toContain(tool.length > 0 ? tool : '\u0000');
  });

  it('an unknown tool is told which tools exist (configured names only)', () => {
    expect(select('nope')).toMatchObject({ detail: 'tools: get_weather, send_email, Lookup.v2' });
  });

  it('skeletons: case, width, marks and look-alikes collapse; different words stay apart', () => {
    expect(nameSkeleton('Send_Email')).toBe(nameSkeleton('send_emai1'));
    expect(nameSkeleton('get_weather')).not.toBe(nameSkeleton('get_feather'));
  });
});

describe('checkMethod', () => {
  const allowed = new Set(['initialize', 'notifications/initialized', 'tools/list']);
  it.each([
    { method: 'tools/call', code: undefined },
    { method: 'initialize', code: undefined },
    { method: 'notifications/initialized', code: undefined },
    { method: 'tools/list', code: undefined },
    { method: 'Tools/Call', code: 'ERR_MCP_METHOD_CASE' },
    { method: 'TOOLS/CALL', code: 'ERR_MCP_METHOD_CASE' },
    { method: 'tools/call\u200B', code: 'ERR_MCP_METHOD_CASE' },
    { method: 'tools/ca\u0131l', code: 'ERR_MCP_METHOD_CASE' },
    { method: 'tools/c\u0430ll', code: 'ERR_MCP_METHOD_CASE' },
    { method: 'Initialize', code: 'ERR_MCP_METHOD_CASE' },
    { method: '\uFF54ools/list', code: 'ERR_MCP_METHOD_CASE' },
    { method: 'Ping', code: 'ERR_MCP_METHOD_CASE' },
    { method: 'ping', code: 'ERR_MCP_METHOD' },
    { method: 'resources/read', code: 'ERR_MCP_METHOD' },
    { method: 'sampling/createMessage', code: 'ERR_MCP_METHOD' },
    { method: 'rpc.discover', code: 'ERR_MCP_METHOD' },
  ])('$method → $code', ({ method, code }) => {
    const result = checkMethod(method, allowed);
    expect(result.ok ? undefined : result.code).toBe(code);
  });
});

describe('MCP_CLIENT_METHODS', () => {
  it('no two known methods read alike (each skeleton names one method)', () => {
    expect(new Set(MCP_CLIENT_METHODS.map(nameSkeleton)).size).toBe(MCP_CLIENT_METHODS.length);
  });
  it('config may list every one of them but tools/call (schema.json mcp.methods)', () => {
    const fn = (configSchema as { $defs: { function: { properties: { mcp: { properties: { methods: { items: { enum: string[] } } } } } } } }).$defs.function;
    expect(fn.properties.mcp.properties.methods.items.enum).toEqual(MCP_CLIENT_METHODS.filter((m) => m !== 'tools/call'));
  });
});
