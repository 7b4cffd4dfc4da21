import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { ConfigError, type ConfigProblem } from '../../src/errors.js';
import { type CompiledInput, createSchemaCompiler } from '../../src/payload/json/compile-input.js';

export const SCHEMA_CONFIG = '/etc/callguard/callguard.yaml';
export const SCHEMA_PATH = '/functions/0/input/schema';

/**
 * One schema compiler for a test file, fed schema values as files (a function's `input.schema`) in a
 * temporary directory made before the file's tests and removed after them.
 */
export function useSchemaFiles(prefix: string): {
  compile(schema: unknown): CompiledInput;
  /** The problems the schema is refused with; throws if it loads. */
  problemsOf(schema: unknown): ConfigProblem[];
} {
  let dir = '';
  let serial = 0;
  const compiler = createSchemaCompiler();
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const compile = (schema: unknown): CompiledInput => {
    const file = join(dir, `s${serial++}.json`);
    writeFileSync(file, JSON.stringify(schema));
    return compiler.compile({ contentType: 'application/json', schema: file, sensitive: [], logFields: [] }, SCHEMA_CONFIG, SCHEMA_PATH);
  };
  return {
    compile,
    problemsOf(schema) {
      try {
        compile(schema);
      } catch (err) {
        if (err instanceof ConfigError) return [...err.problems];
        throw err;
      }
      throw new Error('expected a ConfigError');
    },
  };
}
