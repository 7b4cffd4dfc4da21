import { createHash } from 'node:crypto';
import type { FunctionConfig } from '../../config/types.js';
import type { CompiledInput } from '../json/compile-input.js';
import { parseJson, recognizeJson } from '../json/json-kind.js';
import { maskFields } from '../mask-fields.js';
import type { EndpointKind, ParsedPayload, PayloadDenial, PayloadInspector, PayloadNote } from '../payload-inspector.js';
import { compileMcpEndpoint, type McpEndpoint, type McpTool } from './compile-mcp-endpoint.js';
import { checkMethod, TOOLS_CALL } from './mcp-methods.js';
import { isObject, parseJsonRpc } from './parse-jsonrpc.js';

/** Where a tool's `arguments` sit in the message: its schema violations and masks are prefixed with it. */
const ARGUMENTS = '/params/arguments';
// MCP tools/call params (2025-06-18 CallToolRequest): name, arguments, _meta.
const CALL_PARAMS = new Set(['name', 'arguments', '_meta']);
const LOGGED_NAME = /^[A-Za-z0-9_./-]{1,128}$/;
// MCP streamable HTTP: "The server MUST either return Content-Type: text/event-stream in response to
// this HTTP GET, or else return HTTP 405"; DELETE "to explicitly terminate the session".
const OTHER_METHODS = new Map<string, 'no-body' | PayloadDenial>([
  ['DELETE', 'no-body'],
  ['GET', { code: 'ERR_MCP_HTTP_METHOD', detail: 'POST a JSON-RPC message, or DELETE to end a session' }],
]);

/** A parsed MCP message: the tool and its arguments for `tools/call`, nothing more for other methods. */
type McpMessage = { readonly tool: ListedTool; readonly args: Readonly<Record<string, unknown>> } | { readonly tool?: undefined };
/** A tool whose schema is there (parse refuses the others). */
type ListedTool = Extract<McpTool, { readonly input: CompiledInput }>;

/**
 * `functions[].mcp`: an MCP server endpoint (streamable HTTP transport). POST carries one JSON-RPC
 * message whose method is allowed; `tools/call` names a configured tool, the caller matches that tool's
 * rules (authorize), and `arguments` match its schema (validate, pointers under `/params/arguments`).
 * DELETE ends a session (no body), GET is refused (405). The note names the method and tool when they are
 * plain names (else `[redacted]`); fields are the tool's masked `logFields`, never another argument value.
 */
export const mcpKind: EndpointKind = {
  key: 'mcp',
  compile(fn, { configFile, inputPath, schemas, sources, listings }) {
    const endpoint = compileMcpEndpoint(
      fn as FunctionConfig & { mcp: NonNullable<FunctionConfig['mcp']> },
      schemas,
      sources,
      configFile,
      inputPath,
      listings?.get(fn.name),
    );
    // A tool whose listed schema is not there yet digests as such: the digest changes when a retry lists it.
    const digest = createHash('sha256');
    for (const t of endpoint.tools) digest.update(`${t.name}\n${t.input?.schemaDigest ?? 'unavailable'}\n`);
    const tools = fn.mcp?.tools ?? [];
    // Every tool's pointers, under `arguments`: the shared step cuts violation pointers at `sensitive`
    // (one tool's sensitive name also cuts another's pointer: more masked, never less); a non-empty
    // `logFields` says some tool logs fields (summarize picks the called tool's own).
    const under = (pointers: readonly string[]): string[] => pointers.map((p) => ARGUMENTS + p);
    const inspector: PayloadInspector = {
      contentType: 'application/json',
      digest: digest.digest('base64url'),
      // Named in ERR_BODY_SCHEMA_FAULT's log detail; validate adds which tool's schema threw.
      schemaFile: [...new Set(endpoint.tools.flatMap((t) => (t.input === undefined ? [] : [t.input.schemaFile])))].join(', '),
      sensitive: Object.freeze([...new Set(tools.flatMap((t) => under(t.sensitive)))]),
      logFields: Object.freeze([...new Set(tools.flatMap((t) => under(t.logFields)))]),
      recognize: recognizeJson,
      parse: (bytes, limits) => {
        const json = parseJson(bytes, limits);
        return json.ok ? readMessage(endpoint, json.value) : json;
      },
      authorize(value, caller) {
        const { tool } = value as McpMessage;
        if (tool === undefined || tool.policy.permits(caller)) return undefined;
        return { code: 'ERR_NOT_PERMITTED', detail: 'the caller may not call this tool', internal: `tool "${tool.name}": ${tool.policy.explain(caller)}` };
      },
      validate(value) {
        const message = value as McpMessage;
        const { tool } = message;
        if (tool === undefined) return [];
        let found: ReturnType<typeof tool.input.validate>;
        try {
          found = tool.input.validate(message.args);
        } catch (err) {
          // The shared step turns this into ERR_BODY_SCHEMA_FAULT; the log names the tool and its file.
          throw new Error(`tool "${tool.name}" (${tool.input.schemaFile}): ${err instanceof Error ? err.message : String(err)}`);
        }
        return found.map((v) => ({ ...v, pointer: ARGUMENTS + v.pointer }));
      },
      summarize(value) {
        const message = value as McpMessage;
        return message.tool === undefined || message.tool.input.logFields.length === 0 ? undefined : maskFields(message.args, message.tool.input);
      },
      otherMethods: OTHER_METHODS,
    };
    return Object.freeze(inspector);
  },
};

/** The JSON body as one MCP client message: JSON-RPC shape, an allowed method, and for `tools/call` a configured tool. */
function readMessage(endpoint: McpEndpoint, body: unknown): ParsedPayload {
  const parsed = parseJsonRpc(body);
  if (!parsed.ok) return parsed;
  const { method, params } = parsed.message;
  let note: PayloadNote = { jsonrpc: { method: logSafe(method) } };
  const refuse = (code: PayloadDenial['code'], detail: string, internal?: string): ParsedPayload =>
    internal === undefined ? { ok: false, code, detail, note } : { ok: false, code, detail, internal, note };
  const allowed = checkMethod(method, endpoint.methods);
  if (!allowed.ok) return refuse(allowed.code, allowed.detail);
  // MCP: requests carry an id, notifications do not; a server may treat either shape as the other.
  const notification = method.startsWith('notifications/');
  if (notification !== (parsed.message.id === undefined))
    return refuse('ERR_JSONRPC_INVALID', notification ? 'a notification has no "id"' : 'a request needs an "id"');
  if (method !== TOOLS_CALL) return { ok: true, value: {} satisfies McpMessage, note };

  const name = params?.['name'];
  if (typeof name !== 'string') return refuse('ERR_JSONRPC_INVALID', 'tools/call needs "params.name", a string');
  for (const key in params) if (!CALL_PARAMS.has(key)) return refuse('ERR_JSONRPC_INVALID', 'tools/call params are name, arguments and _meta');
  // An absent `arguments` is validated as `{}`; a null one is not absent (the server would receive null).
  const args = params?.['arguments'] === undefined ? {} : params['arguments'];
  if (!isObject(args)) return refuse('ERR_JSONRPC_INVALID', '"params.arguments" must be an object');
  if (params?.['_meta'] !== undefined && !isObject(params['_meta'])) return refuse('ERR_JSONRPC_INVALID', '"params._meta" must be an object');
  note = { jsonrpc: { method, tool: logSafe(name) } };
  const selected = endpoint.selectTool(name);
  if (!selected.ok) return refuse(selected.code, selected.detail, selected.internal);
  const { tool } = selected;
  if (tool.input === undefined)
    return refuse('ERR_MCP_TOOLS_UNAVAILABLE', 'the input schema of this tool is not listed yet', `tool "${tool.name}": ${tool.unavailable}`);
  return { ok: true, value: { tool, args } satisfies McpMessage, note };
}

/** A caller-chosen name as the decision log may hold it: plain characters only. */
function logSafe(name: string): string {
  return LOGGED_NAME.test(name) ? name : '[redacted]';
}
