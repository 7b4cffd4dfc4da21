import type { FunctionConfig, InputConfig } from '../config/types.js';
import { ConfigError, type ConfigProblem } from '../errors.js';
import type { SourceKinds } from '../functions/compile-policy.js';
import { grpcKind } from './grpc/grpc-kind.js';
import { createSchemaCompiler } from './json/compile-input.js';
import { jsonKind } from './json/json-kind.js';
import type { ToolListings } from './jsonrpc/list-tool-servers.js';
import { mcpKind } from './jsonrpc/mcp-kind.js';
import type { CompileContext, EndpointKind, PayloadInspector, PayloadKind } from './payload-inspector.js';

/** Every payload kind, by the `input.contentType` that selects it. Adding one: see {@link PayloadKind}. */
const KINDS: ReadonlyMap<string, PayloadKind> = new Map([jsonKind, grpcKind].map((kind) => [kind.contentType, kind]));
/** Kinds chosen by a function key of their own (see {@link EndpointKind}). */
const ENDPOINT_KINDS: readonly EndpointKind[] = [mcpKind];

/** Compiles functions' `input` blocks with one shared schema compiler; every problem of every block at once. */
export function createPayloadCompiler(configFile: string, sources: SourceKinds = new Map()): (input: InputConfig, inputPath: string) => PayloadInspector {
  return createCompilers(configFile, sources).input;
}

/**
 * Compiles each function's payload inspector, by its endpoint key (`mcp`) or its `input` block; undefined
 * when it has neither (it takes no body). One shared schema compiler; a ConfigError lists every problem.
 */
export function createFunctionPayloadCompiler(
  configFile: string,
  sources: SourceKinds,
  listings?: ToolListings,
): (fn: FunctionConfig, functionPath: string) => PayloadInspector | undefined {
  const { input, context } = createCompilers(configFile, sources);
  return (fn, functionPath) => {
    for (const kind of ENDPOINT_KINDS) {
      if (fn[kind.key] !== undefined) {
        return kind.compile(fn, { ...context, inputPath: `${functionPath}/${kind.key}`, ...(listings !== undefined ? { listings } : {}) });
      }
    }
    return fn.input === undefined ? undefined : input(fn.input, `${functionPath}/input`);
  };
}

function createCompilers(configFile: string, sources: SourceKinds) {
  const context: CompileContext = { configFile, inputPath: '', schemas: createSchemaCompiler(), sources };
  const input = (input: InputConfig, inputPath: string): PayloadInspector => {
    const kind = KINDS.get(input.contentType);
    const problems: ConfigProblem[] = [];
    if (kind === undefined) {
      throw new ConfigError([{ file: configFile, path: `${inputPath}/contentType`, message: `no payload kind handles ${input.contentType}` }]);
    }
    for (const other of KINDS.values()) {
      const section = other.section;
      if (section !== undefined && other !== kind && input[section] !== undefined) {
        problems.push({ file: configFile, path: `${inputPath}/${section}`, message: `only for contentType ${other.contentType}` });
      }
    }
    try {
      const inspector = kind.compile(input, { ...context, inputPath });
      if (problems.length === 0) return inspector;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
    }
    throw new ConfigError(problems);
  };
  return { input, context };
}
