import { describe, expect, it } from 'vitest';
import { parseJsonRpc } from '../../../../src/payload/jsonrpc/parse-jsonrpc.js';

const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_weather', arguments: { city: 'Oslo' } } };

describe('parseJsonRpc', () => {
  it.each([
    { name: 'a request with a number id', value: call, message: { method: 'tools/call', id: 1, params: call.params } },
    { name: 'a request with a string id', value: { jsonrpc: '2.0', id: 'a-1', method: 'ping' }, message: { method: 'ping', id: 'a-1' } },
    { name: 'id 0 and negative ids', value: { jsonrpc: '2.0', id: -7, method: 'ping' }, message: { method: 'ping', id: -7 } },
    { name: 'a notification (no id)', value: { jsonrpc: '2.0', method: 'notifications/initialized' }, message: { method: 'notifications/initialized' } },
    { name: 'empty params object', value: { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }, message: { method: 'tools/list', id: 2, params: {} } },
  ])('$name → accepted', ({ value, message }) => {
    expect(parseJsonRpc(value)).toEqual({ ok: true, message });
  });

  it.each([
    { name: 'a batch', value: [call], code: 'ERR_JSONRPC_BATCH', detail: /one JSON-RPC message per request/ },
    { name: 'an empty batch', value: [], code: 'ERR_JSONRPC_BATCH', detail: /one JSON-RPC message/ },
    { name: 'a string', value: 'tools/call', code: 'ERR_JSONRPC_INVALID', detail: /JSON-RPC object/ },
    { name: 'null', value: null, code: 'ERR_JSONRPC_INVALID', detail: /JSON-RPC object/ },
    { name: 'jsonrpc missing', value: { id: 1, method: 'ping' }, code: 'ERR_JSONRPC_INVALID', detail: /"jsonrpc" must be exactly "2.0"/ },
    { name: 'jsonrpc 2.0 as a number', value: { jsonrpc: 2.0, id: 1, method: 'ping' }, code: 'ERR_JSONRPC_INVALID', detail: /exactly "2.0"/ },
    { name: 'jsonrpc "1.0"', value: { jsonrpc: '1.0', id: 1, method: 'ping' }, code: 'ERR_JSONRPC_INVALID', detail: /exactly "2.0"/ },
    { name: 'a response (result)', value: { jsonrpc: '2.0', id: 1, result: {} }, code: 'ERR_JSONRPC_INVALID', detail: /response is not accepted/ },
    { name: 'a response (error)', value: { jsonrpc: '2.0', id: 1, error: { code: -1, message: 'x' } }, code: 'ERR_JSONRPC_INVALID', detail: /response/ },
    { name: 'an extra member', value: { ...call, extra: true }, code: 'ERR_JSONRPC_INVALID', detail: /members other than/ },
    { name: 'method missing', value: { jsonrpc: '2.0', id: 1 }, code: 'ERR_JSONRPC_INVALID', detail: /"method" must be/ },
    { name: 'method not a string', value: { jsonrpc: '2.0', id: 1, method: 7 }, code: 'ERR_JSONRPC_INVALID', detail: /"method" must be/ },
    { name: 'method empty', value: { jsonrpc: '2.0', id: 1, method: '' }, code: 'ERR_JSONRPC_INVALID', detail: /"method" must be/ },
    {
      name: 'params an array (JSON-RPC yes, MCP no)',
      value: { ...call, params: ['get_weather'] },
      code: 'ERR_JSONRPC_INVALID',
      detail: /"params" must be an object/,
    },
    { name: 'params null', value: { ...call, params: null }, code: 'ERR_JSONRPC_INVALID', detail: /"params" must be an object/ },
    { name: 'params a string', value: { ...call, params: 'x' }, code: 'ERR_JSONRPC_INVALID', detail: /"params" must be an object/ },
    { name: 'id null (MCP forbids)', value: { ...call, id: null }, code: 'ERR_JSONRPC_INVALID', detail: /"id" must be a string or an integer/ },
    { name: 'id a fraction', value: { ...call, id: 1.5 }, code: 'ERR_JSONRPC_INVALID', detail: /"id"/ },
    { name: 'id an object', value: { ...call, id: { n: 1 } }, code: 'ERR_JSONRPC_INVALID', detail: /"id"/ },
    { name: 'id a boolean', value: { ...call, id: true }, code: 'ERR_JSONRPC_INVALID', detail: /"id"/ },
    { name: 'id beyond 2^53', value: { ...call, id: 2 ** 60 }, code: 'ERR_JSONRPC_INVALID', detail: /"id"/ },
  ])('$name → $code', ({ value, code, detail }) => {
    const result = parseJsonRpc(value);
    expect(result.ok ? undefined : result.code).toBe(code);
    expect(result.ok ? '' : result.detail).toMatch(detail);
  });

  it('details never quote the body', () => {
    const secret = 'hunter2-secret';
    for (const value of [{ jsonrpc: secret }, { jsonrpc: '2.0', method: 'ping', [secret]: 1 }, { jsonrpc: '2.0', id: { secret }, method: 'x' }]) {
      const result = parseJsonRpc(value);
      expect(result.ok).toBe(false);
      expect(JSON.stringify(result)).not.toContain(secret);
    }
  });
});
