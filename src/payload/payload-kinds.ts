import type { InputConfig } from '../config/types.js';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { grpcKind } from './grpc/grpc-kind.js';
import { createSchemaCompiler } from './json/compile-input.js';
import { jsonKind } from './json/json-kind.js';
import type { PayloadInspector, PayloadKind } from './payload-inspector.js';

/** Every payload kind, by the `input.contentType` that selects it. Adding one: see {@link PayloadKind}. */
const KINDS: ReadonlyMap<string, PayloadKind> = new Map([jsonKind, grpcKind].map((kind) => [kind.contentType, kind]));

/** Compiles functions' `input` blocks with one shared schema compiler; every problem of every block at once. */
export function createPayloadCompiler(configFile: string): (input: InputConfig, inputPath: string) => PayloadInspector {
  const schemas = createSchemaCompiler();
  return (input, inputPath) => {
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
      const inspector = kind.compile(input, { configFile, inputPath, schemas });
      if (problems.length === 0) return inspector;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
    }
    throw new ConfigError(problems);
  };
}
