import type { RequestBody } from '../../call-attempt.js';
import type { PayloadSummary } from '../../decision.js';
import type { ReasonCode } from '../../errors.js';
import type { Caller } from '../../principal.js';
import { type PayloadResult, readJsonBody, requireNoBody, schemaDenial } from '../inspect-payload.js';
import { maskFields } from '../mask-fields.js';
import type { McpEndpoint } from './compile-mcp-endpoint.js';
import { checkMethod, TOOLS_CALL } from './mcp-methods.js';
import { isObject, parseJsonRpc } from './parse-jsonrpc.js';

/** An HTTP request to an MCP endpoint, as far as the payload stage reads it. */
export interface McpRequest {
  readonly method: string;
  readonly body: RequestBody;
  readonly contentType?: string | undefined;
  readonly contentEncoding?: string | undefined;
}

// MCP tools/call params (2025-06-18 CallToolRequest): name, arguments, _meta.
const CALL_PARAMS = new Set(['name', 'arguments', '_meta']);
const LOGGED_NAME = /^[A-Za-z0-9_./-]{1,128}$/;

/**
 * Judges one request to an MCP endpoint (streamable HTTP transport) for a caller the function's rules
 * already allow: POST carries one JSON-RPC message whose method is allowed; `tools/call` names a
 * configured tool, the caller matches that tool's rules, and `arguments` match its schema. DELETE ends a
 * session (no body). The summary names the method and tool when they are plain names (else
 * `[redacted]`) and, for an allowed tool call, its masked `logFields`; never another argument value.
 */
export function inspectMcpCall(endpoint: McpEndpoint, request: McpRequest, caller: Caller, limits: { maxDepth: number }): PayloadResult {
  // MCP streamable HTTP: "The server MUST either return Content-Type: text/event-stream in response to
  // this HTTP GET, or else return HTTP 405"; DELETE "to explicitly terminate the session".
  if (request.method === 'DELETE') return requireNoBody(request.body, request.contentType);
  if (request.method !== 'POST') {
    return {
      ok: false,
      code: 'ERR_MCP_HTTP_METHOD',
      detail: 'POST a JSON-RPC message, or DELETE to end a session',
      violations: [],
      summary: { bytes: request.body.bytes?.length ?? 0 },
    };
  }
  const body = readJsonBody('application/json', request.body, request.contentType, limits, request.contentEncoding);
  if (!body.ok) return body;
  let summary = body.summary;
  const parsed = parseJsonRpc(body.value);
  if (!parsed.ok) return refuse(summary, parsed.code, parsed.detail);
  const { method, params } = parsed.message;
  summary = { ...summary, jsonrpc: { method: logSafe(method) } };
  const allowed = checkMethod(method, endpoint.methods);
  if (!allowed.ok) return refuse(summary, allowed.code, allowed.detail);
  // MCP: requests carry an id, notifications do not; a server may treat either shape as the other.
  const notification = method.startsWith('notifications/');
  if (notification !== (parsed.message.id === undefined))
    return refuse(summary, 'ERR_JSONRPC_INVALID', notification ? 'a notification has no "id"' : 'a request needs an "id"');
  if (method !== TOOLS_CALL) return { ok: true, summary };

  const name = params?.['name'];
  if (typeof name !== 'string') return refuse(summary, 'ERR_JSONRPC_INVALID', 'tools/call needs "params.name", a string');
  for (const key in params) if (!CALL_PARAMS.has(key)) return refuse(summary, 'ERR_JSONRPC_INVALID', 'tools/call params are name, arguments and _meta');
  // An absent `arguments` is validated as `{}`; a null one is not absent (the server would receive null).
  const args = params?.['arguments'] === undefined ? {} : params['arguments'];
  if (!isObject(args)) return refuse(summary, 'ERR_JSONRPC_INVALID', '"params.arguments" must be an object');
  if (params?.['_meta'] !== undefined && !isObject(params['_meta'])) return refuse(summary, 'ERR_JSONRPC_INVALID', '"params._meta" must be an object');
  summary = { ...summary, jsonrpc: { method, tool: logSafe(name) } };

  const selected = endpoint.selectTool(name);
  if (!selected.ok) return refuse(summary, selected.code, selected.detail, selected.internal);
  const { tool } = selected;
  if (!tool.policy.permits(caller))
    return refuse(summary, 'ERR_NOT_PERMITTED', 'the caller may not call this tool', `tool "${tool.name}": ${tool.policy.explain(caller)}`);
  const found = tool.input.validate(args);
  if (found.length > 0) return schemaDenial(found, tool.input.sensitive, summary, '/params/arguments', 'params.arguments');
  return { ok: true, summary: tool.input.logFields.length > 0 ? { ...summary, fields: maskFields(args, tool.input) } : summary };
}

function refuse(summary: PayloadSummary, code: ReasonCode, detail: string, internal?: string): PayloadResult {
  return internal === undefined ? { ok: false, code, detail, violations: [], summary } : { ok: false, code, detail, violations: [], summary, internal };
}

/** A caller-chosen name as the decision log may hold it: plain characters only. */
function logSafe(name: string): string {
  return LOGGED_NAME.test(name) ? name : '[redacted]';
}
