import { nameSkeleton } from './name-skeleton.js';

/** MCP tool names (2025-11-25 "Tool names"): 1-128 ASCII letters, digits, `_`, `-`, `.`; case-sensitive. */
export const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

export type ToolSelection<T> =
  | { readonly ok: true; readonly tool: T }
  | { readonly ok: false; readonly code: 'ERR_MCP_TOOL_UNKNOWN' | 'ERR_MCP_TOOL_CONFUSABLE'; readonly detail: string; readonly internal?: string };

/**
 * Picks a configured tool by exact name. A name that is not one refuses the call, as a confusable one
 * when it is not an MCP tool name (non-ASCII, spaces, controls) or when it looks like a configured tool
 * ({@link nameSkeleton}: `Get_Weather`, `get_weather` with a Cyrillic `е`, `get_weather\u200B`):
 * whichever tool the server would dispatch it to, the rules and schema chosen here must be that tool's.
 */
export function createToolSelector<T extends { readonly name: string }>(tools: readonly T[]): (name: string) => ToolSelection<T> {
  const byName = new Map(tools.map((t) => [t.name, t]));
  const bySkeleton = new Map(tools.map((t) => [nameSkeleton(t.name), t.name]));
  return (name) => {
    const tool = byName.get(name);
    if (tool !== undefined) return { ok: true, tool };
    const imitated = bySkeleton.get(nameSkeleton(name));
    if (imitated !== undefined) {
      return { ok: false, code: 'ERR_MCP_TOOL_CONFUSABLE', detail: `the tool name imitates "${imitated}"`, internal: `imitates tool "${imitated}"` };
    }
    if (!TOOL_NAME.test(name)) return { ok: false, code: 'ERR_MCP_TOOL_CONFUSABLE', detail: 'tool names are 1-128 ASCII letters, digits, _, - and .' };
    return { ok: false, code: 'ERR_MCP_TOOL_UNKNOWN', detail: `tools: ${[...byName.keys()].join(', ')}` };
  };
}
