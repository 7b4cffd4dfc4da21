import type { FunctionConfig, McpConfig } from '../../config/types.js';
import { ConfigError, type ConfigProblem } from '../../errors.js';
import { compilePolicy, type Policy, type SourceKinds } from '../../functions/compile-policy.js';
import type { CompiledInput, SchemaCompiler } from '../json/compile-input.js';
import { nameSkeleton } from './name-skeleton.js';
import { createToolSelector, type ToolSelection } from './select-tool.js';

/** One tool of an MCP endpoint: who may call it and its `arguments` schema. */
export interface McpTool {
  readonly name: string;
  readonly policy: Policy;
  readonly input: CompiledInput;
}

/** A function's `mcp` block, ready for requests: tool schemas compiled and rules compiled once at load. */
export interface McpEndpoint {
  /** Methods allowed besides `tools/call`. */
  readonly methods: ReadonlySet<string>;
  readonly selectTool: (name: string) => ToolSelection<McpTool>;
  /** Tool name → SHA-256 of its schema file as compiled (part of the policy digest). */
  readonly schemaDigests: ReadonlyMap<string, string>;
}

/**
 * Compiles `fn.mcp`; throws {@link ConfigError} listing every problem of every tool (schemas, pointers,
 * names that are confusable with each other). Rule sources are checked with the function's own rules.
 */
export function compileMcpEndpoint(
  fn: FunctionConfig & { readonly mcp: McpConfig },
  compiler: SchemaCompiler,
  sources: SourceKinds,
  configFile: string,
  at: string,
): McpEndpoint {
  const problems: ConfigProblem[] = [];
  const tools: McpTool[] = [];
  const skeletons = new Map<string, string>();
  fn.mcp.tools.forEach((tool, i) => {
    const skeleton = nameSkeleton(tool.name);
    const twin = skeletons.get(skeleton);
    if (twin !== undefined) problems.push({ file: configFile, path: `${at}/tools/${i}/name`, message: `"${tool.name}" is confusable with tool "${twin}"` });
    skeletons.set(skeleton, tool.name);
    const schema = tool.schema;
    if (schema === undefined) {
      problems.push({ file: configFile, path: `${at}/tools/${i}`, message: 'needs "schema" (a file), or "server" on the mcp block to list it' });
      return;
    }
    try {
      const input = compiler.compile({ contentType: 'application/json', ...tool, schema }, configFile, `${at}/tools/${i}/schema`);
      tools.push({ name: tool.name, policy: compilePolicy({ ...fn, allow: tool.allow }, sources), input });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    methods: new Set(fn.mcp.methods),
    selectTool: createToolSelector(tools),
    schemaDigests: new Map(tools.map((t) => [t.name, t.input.schemaDigest])),
  });
}
