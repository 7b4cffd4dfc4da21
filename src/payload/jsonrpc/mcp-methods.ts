import { nameSkeleton } from './name-skeleton.js';

/**
 * What an MCP client sends a server (MCP 2025-06-18, schema.ts ClientRequest and ClientNotification).
 * `functions[].mcp.methods` may list any of these but `tools/call`, which `mcp.tools` governs.
 */
export const MCP_CLIENT_METHODS: readonly string[] = Object.freeze([
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'logging/setLevel',
  'completion/complete',
  'notifications/initialized',
  'notifications/cancelled',
  'notifications/progress',
  'notifications/roots/list_changed',
]);

export const TOOLS_CALL = 'tools/call';

export type MethodCheck = { readonly ok: true } | { readonly ok: false; readonly code: 'ERR_MCP_METHOD' | 'ERR_MCP_METHOD_CASE'; readonly detail: string };

const SKELETONS = new Map(MCP_CLIENT_METHODS.map((m) => [nameSkeleton(m), m]));

/**
 * Whether `method` may pass: exactly `tools/call` or an allowed method. JSON-RPC method names are
 * case-sensitive, but a server's dispatcher might not be: a name that reads as a known method without
 * being it (`Tools/Call`, `tools/c\u0430ll` with a Cyrillic `а`) is refused as such, whatever is allowed.
 */
export function checkMethod(method: string, allowed: ReadonlySet<string>): MethodCheck {
  if (method === TOOLS_CALL || allowed.has(method)) return { ok: true };
  const known = SKELETONS.get(nameSkeleton(method));
  if (known !== undefined && known !== method) return { ok: false, code: 'ERR_MCP_METHOD_CASE', detail: `not an MCP method; did you mean "${known}"?` };
  return { ok: false, code: 'ERR_MCP_METHOD', detail: `allowed: tools/call, ${[...allowed].join(', ')}` };
}
