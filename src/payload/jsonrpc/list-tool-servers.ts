import { hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import type { Config, McpServerConfig } from '../../config/types.js';
import type { ConfigProblem } from '../../errors.js';
import { type ListedTool, ListToolsError, listMcpTools } from './list-mcp-tools.js';

/**
 * What one function's MCP server listed for this load, or why it could not be listed: `config` when
 * only a config change can fix it (its TLS files cannot be read or do not fit together), else a failure
 * of the server or the way to it, which a retry may outlive.
 */
export type ToolListing =
  | {
      readonly ok: true;
      readonly url: string;
      readonly tools: ReadonlyMap<string, ListedTool>;
      /** What the listing was trusted by when it was made (see {@link carryListings}). */
      readonly trust: readonly unknown[];
    }
  | { readonly ok: false; readonly url: string; readonly why: string; readonly config: boolean };

/** Function name → its server's listing, for every function with a tool whose schema the server supplies. */
export type ToolListings = ReadonlyMap<string, ToolListing>;

/** A function whose MCP server supplies tool schemas (`mcp.server`), and whether the running config has them. */
export interface ToolServerStatus {
  readonly function: string;
  readonly url: string;
  /** False while its tools without a schema file are refused (ERR_MCP_TOOLS_UNAVAILABLE). */
  readonly listed: boolean;
  /** Why the latest listing failed (log-safe). */
  readonly why?: string;
}

/**
 * Lists, in parallel, the MCP server of every function that has a tool without a `schema` file (a
 * function whose tools all have one is not asked), or of the functions in `only`. Never rejects: a
 * failure is a listing with `why` (log-safe). `signal` aborts every listing (close).
 */
export async function listToolServers(
  config: Config,
  options: { readonly signal?: AbortSignal; readonly only?: ReadonlySet<string> } = {},
): Promise<ToolListings> {
  const { signal, only } = options;
  const needing = config.functions.flatMap((fn) => {
    const server = fn.mcp?.server;
    const wanted = only === undefined ? fn.mcp?.tools.some((t) => t.schema === undefined) : only.has(fn.name);
    return server !== undefined && wanted ? [{ name: fn.name, server }] : [];
  });
  const listed = await Promise.all(
    needing.map(async ({ name, server }): Promise<[string, ToolListing]> => {
      try {
        const trust = trustOf(server);
        return [name, { ok: true, url: server.url, tools: await listMcpTools(server, signal === undefined ? {} : { signal }), trust }];
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        return [name, { ok: false, url: server.url, why, config: err instanceof ListToolsError && err.step === 'tls-files' }];
      }
    }),
  );
  return new Map(listed);
}

/** The listings that failed, with their functions. */
export function unlistedServers(listings: ToolListings): { readonly function: string; readonly url: string; readonly why: string; readonly config: boolean }[] {
  return [...listings].flatMap(([name, l]) => (l.ok ? [] : [{ function: name, url: l.url, why: l.why, config: l.config }]));
}

/** A config problem per listing that only a config change can fix (or per failed listing, with `all`), at its function's `mcp/server`. */
export function unlistedProblems(config: Config, listings: ToolListings, options: { readonly all?: boolean } = {}): ConfigProblem[] {
  return unlistedServers(listings)
    .filter((u) => options.all === true || u.config)
    .map((u) => ({
      file: config.file,
      path: `/functions/${config.functions.findIndex((fn) => fn.name === u.function)}/mcp/server`,
      message: `cannot list the tools of ${u.why}`,
    }));
}

/**
 * On reload: a function whose server cannot be listed now keeps what it listed for the running config,
 * when what it trusted the server by is unchanged (URL, name, TLS file contents) (a reload must not wait on an MCP server to apply, say,
 * a revocation elsewhere). Returns the listings to build with, and the functions that kept theirs.
 */
export function carryListings(
  next: Config,
  listings: ToolListings,
  runningListings: ToolListings,
): { readonly listings: ToolListings; readonly carried: readonly string[] } {
  const serverOf = (config: Config, name: string) => config.functions.find((fn) => fn.name === name)?.mcp?.server;
  const result = new Map(listings);
  const carried: string[] = [];
  for (const [name, listing] of listings) {
    const before = runningListings.get(name);
    if (listing.ok || listing.config || before?.ok !== true) continue;
    const now = serverOf(next, name);
    if (now === undefined || !isDeepStrictEqual(before.trust, trustOf(now))) continue;
    result.set(name, before);
    carried.push(name);
  }
  return { listings: result, carried };
}

/**
 * What a listing was trusted by: where it came from and the contents of the TLS files (a CA replaced in
 * place and a SIGHUP withdraw trust from the old server, as a replaced key file does). Timeouts do not count.
 */
function trustOf(server: McpServerConfig): readonly unknown[] {
  const contents = (file: string | undefined): string | undefined => {
    if (file === undefined) return undefined;
    try {
      return hash('sha256', readFileSync(file), 'base64url');
    } catch {
      return 'unreadable';
    }
  };
  return [server.url, server.serverName, contents(server.ca), contents(server.cert), contents(server.key)];
}
