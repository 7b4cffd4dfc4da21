/** One JSON-RPC 2.0 request (`id` present) or notification (no `id`), as MCP restricts them. */
export interface JsonRpcMessage {
  readonly method: string;
  /** Absent for a notification. MCP: a string or an integer, never null. */
  readonly id?: string | number;
  /** MCP: an object when present (JSON-RPC 2.0 also allows an array; MCP does not). */
  readonly params?: Readonly<Record<string, unknown>>;
}

export type JsonRpcParse =
  | { readonly ok: true; readonly message: JsonRpcMessage }
  | { readonly ok: false; readonly code: 'ERR_JSONRPC_INVALID' | 'ERR_JSONRPC_BATCH'; readonly detail: string };

// JSON-RPC 2.0 §4: a request object has exactly these members.
const MEMBERS = new Set(['jsonrpc', 'method', 'id', 'params']);

/**
 * Reads a parsed body as one JSON-RPC 2.0 message from an MCP client. Strict where readers differ:
 * `jsonrpc` exactly "2.0", no extra members, an id of the types MCP allows. A response (`result` or
 * `error`) is refused: this endpoint judges requests, and a reply to a server-initiated request would
 * arrive only over the GET stream callguard does not offer. Details never quote the body.
 */
export function parseJsonRpc(value: unknown): JsonRpcParse {
  // JSON-RPC 2.0 §6 batches; MCP 2025-06-18 removed them (see README "MCP tool calls" for why refused).
  if (Array.isArray(value)) return { ok: false, code: 'ERR_JSONRPC_BATCH', detail: 'send one JSON-RPC message per request (MCP 2025-06-18 has no batches)' };
  if (!isObject(value)) return invalid('the body must be a JSON-RPC object');
  if (value['jsonrpc'] !== '2.0') return invalid('"jsonrpc" must be exactly "2.0"');
  if ('result' in value || 'error' in value) return invalid('a JSON-RPC response is not accepted: send requests and notifications');
  for (const key in value) if (!MEMBERS.has(key)) return invalid('members other than jsonrpc, id, method and params are not allowed');
  const { method, params } = value;
  if (typeof method !== 'string' || method.length === 0) return invalid('"method" must be a non-empty string');
  if (params !== undefined && !isObject(params)) return invalid('"params" must be an object (MCP)');
  if (!('id' in value)) return { ok: true, message: params === undefined ? { method } : { method, params } };
  const id = value['id'];
  // MCP: "Unlike base JSON-RPC, the ID MUST NOT be null"; JSON-RPC 2.0 §4: numbers SHOULD NOT have fractions.
  if (typeof id !== 'string' && !Number.isSafeInteger(id)) return invalid('"id" must be a string or an integer');
  const message = { method, id: id as string | number };
  return { ok: true, message: params === undefined ? message : { ...message, params } };
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(detail: string): JsonRpcParse {
  return { ok: false, code: 'ERR_JSONRPC_INVALID', detail };
}
