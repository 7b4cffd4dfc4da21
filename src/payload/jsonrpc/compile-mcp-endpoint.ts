import type { FunctionConfig, McpConfig, McpToolConfig } from '../../config/types.js';
import { ConfigError, type ConfigProblem } from '../../errors.js';
import { compilePolicy, type Policy, type SourceKinds } from '../../functions/compile-policy.js';
import { printableAscii } from '../../printable-ascii.js';
import type { CompiledInput, SchemaCompiler } from '../json/compile-input.js';
import type { ToolListing } from './list-tool-servers.js';
import { nameSkeleton } from './name-skeleton.js';
import { createToolSelector, TOOL_NAME, type ToolSelection } from './select-tool.js';

/**
 * One tool of an MCP endpoint: who may call it and its `arguments` schema; `input` is undefined while the
 * schema its server lists could not be listed (`unavailable` says why, for the log): calls are refused.
 */
export type McpTool = { readonly name: string; readonly policy: Policy } & (
  | { readonly input: CompiledInput; readonly unavailable?: undefined }
  | { readonly input?: undefined; readonly unavailable: string }
);

/** A function's `mcp` block, ready for requests: tool schemas compiled and rules compiled once at load. */
export interface McpEndpoint {
  /** Methods allowed besides `tools/call`. */
  readonly methods: ReadonlySet<string>;
  readonly selectTool: (name: string) => ToolSelection<McpTool>;
  /** Every tool, in config order. */
  readonly tools: readonly McpTool[];
}

// Tool names a server lists that an error message may quote (the names are the server's, not ours).
const QUOTED_NAMES = 10;
// A problem in a listed schema, as shown: long enough for a pointer and ajv's message.
const MAX_PROBLEM_CHARS = 500;

/**
 * Compiles `fn.mcp`; throws {@link ConfigError} listing every problem of every tool (schemas, pointers,
 * names that are confusable with each other, tools the server does not list). A tool without a `schema`
 * file takes the `inputSchema` in `listing` (its server's `tools/list` at this load); a failed listing
 * leaves such tools unavailable rather than failing the load. Rule sources are checked with the
 * function's own rules.
 */
export function compileMcpEndpoint(
  fn: FunctionConfig & { readonly mcp: McpConfig },
  compiler: SchemaCompiler,
  sources: SourceKinds,
  configFile: string,
  at: string,
  listing?: ToolListing,
): McpEndpoint {
  const problems: ConfigProblem[] = [];
  const tools: McpTool[] = [];
  const skeletons = new Map<string, string>();
  fn.mcp.tools.forEach((tool, i) => {
    const skeleton = nameSkeleton(tool.name);
    const twin = skeletons.get(skeleton);
    if (twin !== undefined) problems.push({ file: configFile, path: `${at}/tools/${i}/name`, message: `"${tool.name}" is confusable with tool "${twin}"` });
    skeletons.set(skeleton, tool.name);
    const policy = compilePolicy({ ...fn, allow: tool.allow }, sources);
    const compile = (schema: string, listed?: Parameters<SchemaCompiler['compile']>[3]): void => {
      try {
        tools.push({
          name: tool.name,
          policy,
          input: compiler.compile({ contentType: 'application/json', ...tool, schema }, configFile, `${at}/tools/${i}/schema`, listed),
        });
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        // A listed schema's problems quote what the server wrote (keys, `$id`s): made printable, as any peer text.
        problems.push(...(listed === undefined ? err.problems : err.problems.map((p) => ({ ...p, message: printableAscii(p.message, MAX_PROBLEM_CHARS) }))));
        // The server's schema cannot be edited here: the way out is a reviewed file for this tool.
        if (listed !== undefined) {
          problems.push({
            file: configFile,
            path: `${at}/tools/${i}`,
            message: `the inputSchema its server lists cannot be used (see above): give "${tool.name}" a reviewed "schema" file`,
          });
        }
      }
    };
    if (tool.schema !== undefined) {
      compile(tool.schema);
      return;
    }
    const found = listedSchema(tool, fn.mcp, listing);
    if (found.kind === 'problem')
      problems.push({ file: configFile, path: `${at}/tools/${i}${found.field === undefined ? '' : `/${found.field}`}`, message: found.message });
    else if (found.kind === 'unavailable') tools.push({ name: tool.name, policy, unavailable: found.why });
    else compile(found.origin, found.listed);
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({ methods: new Set(fn.mcp.methods), selectTool: createToolSelector(tools), tools: Object.freeze(tools) });
}

/** Where a tool without a schema file gets one: its server's listing. */
function listedSchema(
  tool: McpToolConfig,
  mcp: McpConfig,
  listing: ToolListing | undefined,
):
  | { kind: 'problem'; field?: 'name'; message: string }
  | { kind: 'unavailable'; why: string }
  | { kind: 'listed'; origin: string; listed: { value: unknown; digest: string } } {
  if (mcp.server === undefined) return { kind: 'problem', message: 'needs "schema" (a file), or "server" on the mcp block to list it' };
  if (listing === undefined) return { kind: 'unavailable', why: 'its server was not listed' };
  if (!listing.ok) return { kind: 'unavailable', why: listing.why };
  const listed = listing.tools.get(tool.name);
  if (listed === undefined) {
    const names = [...listing.tools.keys()].filter((n) => TOOL_NAME.test(n));
    const shown = names.length === 0 ? 'none' : names.slice(0, QUOTED_NAMES).join(', ') + (names.length > QUOTED_NAMES ? ', …' : '');
    return { kind: 'problem', field: 'name', message: `the MCP server ${listing.url} does not list tool "${tool.name}" (it lists: ${shown})` };
  }
  return { kind: 'listed', origin: `${listing.url} tools/list "${tool.name}" inputSchema`, listed: { value: listed.inputSchema, digest: listed.digest } };
}
