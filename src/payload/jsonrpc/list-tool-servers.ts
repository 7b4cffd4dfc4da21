import type { Config, McpServerConfig } from '../../config/types.js';
import type { ConfigProblem } from '../../errors.js';
import { type ListedTool, listMcpTools } from './list-mcp-tools.js';

/** What one function's MCP server listed at this load, or why it could not be listed. */
export type ToolListing =
  | { readonly ok: true; readonly url: string; readonly tools: ReadonlyMap<string, ListedTool> }
  | { readonly ok: false; readonly url: string; readonly why: string };

/** Function name → its server's listing, for every function with a tool whose schema the server supplies. */
export type ToolListings = ReadonlyMap<string, ToolListing>;

/** A function whose MCP server supplies tool schemas (`mcp.server`), and whether the running config has them. */
export interface ToolServerStatus {
  readonly function: string;
  readonly url: string;
  /** False while its tools without a schema file are refused (ERR_MCP_TOOLS_UNAVAILABLE). */
  readonly listed: boolean;
  /** Why the last listing this config was built with failed (log-safe). */
  readonly why?: string;
}

export type ListTools = (server: McpServerConfig) => Promise<ReadonlyMap<string, ListedTool>>;

/**
 * Lists, in parallel, the MCP server of every function that has a tool without a `schema` file (a
 * function whose tools all have one is not asked). Never rejects: a failure is a listing with `why`
 * (log-safe), which start tolerates (those tools are refused until a retry lists them) and reload refuses.
 */
export async function listToolServers(config: Config, list: ListTools = listMcpTools): Promise<ToolListings> {
  const needing = config.functions.flatMap((fn) => {
    const server = fn.mcp?.server;
    return server !== undefined && fn.mcp?.tools.some((t) => t.schema === undefined) ? [{ name: fn.name, server }] : [];
  });
  const listed = await Promise.all(
    needing.map(async ({ name, server }): Promise<[string, ToolListing]> => {
      try {
        return [name, { ok: true, url: server.url, tools: await list(server) }];
      } catch (err) {
        return [name, { ok: false, url: server.url, why: err instanceof Error ? err.message : String(err) }];
      }
    }),
  );
  return new Map(listed);
}

/** The listings that failed, with their functions. */
export function unlistedServers(listings: ToolListings): { readonly function: string; readonly url: string; readonly why: string }[] {
  return [...listings].flatMap(([name, l]) => (l.ok ? [] : [{ function: name, url: l.url, why: l.why }]));
}

/** A config problem per failed listing, at its function's `mcp/server`; `then` is appended to each message. */
export function unlistedProblems(config: Config, listings: ToolListings, then = ''): ConfigProblem[] {
  return unlistedServers(listings).map((u) => ({
    file: config.file,
    path: `/functions/${config.functions.findIndex((fn) => fn.name === u.function)}/mcp/server`,
    message: `cannot list the tools of ${u.why}${then}`,
  }));
}
