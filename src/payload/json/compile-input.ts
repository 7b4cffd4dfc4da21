import { hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Ajv2020, type AnySchema, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import formatsPlugin from 'ajv-formats';
import type { InputConfig } from '../../config/types.js';
import { ConfigError, type ConfigProblem } from '../../errors.js';
import { parsePointer } from '../json-pointer.js';
import { createRe2Engine } from '../regexp-engine.js';
import { parseStrictJson } from '../strict-json.js';

/** A function's `input` block, ready for requests: the schema compiled once at load. */
export interface CompiledInput {
  readonly contentType: InputConfig['contentType'];
  readonly schemaFile: string;
  /** SHA-256 (base64url) of the schema file's bytes as compiled: part of the digest a decision line names. */
  readonly schemaDigest: string;
  /** Every way `value` breaks the schema; `[]` when it is valid. */
  readonly validate: (value: unknown) => readonly SchemaViolation[];
  readonly sensitive: readonly string[];
  readonly logFields: readonly string[];
}

/** One schema failure: `pointer` (RFC 6901) into the payload, the failing keyword, ajv's message. */
export interface SchemaViolation {
  readonly pointer: string;
  readonly keyword: string;
  /** Built from the schema only (ajv without `verbose`), never from payload values. */
  readonly detail: string;
}

export interface SchemaCompiler {
  /** Throws {@link ConfigError} listing every problem found with this input block and its schema. */
  compile(input: InputConfig, configFile: string, configPath: string): CompiledInput;
}

// Schemas are config, not request data: deep nesting is fine, numbers need not be exact integers.
const SCHEMA_FILE_LIMITS = { maxDepth: 1000, exactNumbers: false } as const;
// Meta-schema summaries that only repeat the specific errors next to them.
const SUMMARY_KEYWORDS = new Set(['anyOf', 'oneOf', 'if']);

/**
 * Compiles function body schemas (JSON Schema 2020-12) with ajv, `strict` so unknown keywords and
 * formats are load errors, and patterns on RE2 (see createRe2Engine). No option that changes data
 * (`useDefaults`, `coerceTypes`, `removeAdditional`): what is validated is what the function receives.
 */
export function createSchemaCompiler(): SchemaCompiler {
  const regExp = createRe2Engine();
  // addUsedSchema: false keeps a schema's `$id` out of the shared registry, so two files may share one.
  const ajv = new Ajv2020({ allErrors: true, strict: true, addUsedSchema: false, code: { regExp } });
  formatsPlugin.default(ajv);

  return {
    compile(input, configFile, configPath) {
      const file = input.schema;
      const problems: ConfigProblem[] = [];
      const inputPath = configPath.replace(/\/schema$/, '');
      for (const key of ['sensitive', 'logFields'] as const) {
        input[key].forEach((pointer, i) => {
          if (parsePointer(pointer) === undefined) {
            problems.push({ file: configFile, path: `${inputPath}/${key}/${i}`, message: 'not a JSON pointer (RFC 6901)' });
          }
        });
      }
      const schema = readSchema(file, configFile, configPath, problems);
      let validate: ValidateFunction | undefined;
      if (schema.ok) {
        const problem = (message: string): void => void problems.push({ file, path: configPath, message });
        try {
          if (!ajv.validateSchema(schema.value)) {
            for (const e of metaErrors(ajv.errors ?? [])) problem(`schema ${e.instancePath || '(root)'}: ${e.message ?? e.keyword}`);
          } else {
            regExp.takeRejected();
            validate = ajv.compile(schema.value);
          }
        } catch (err) {
          problem(`invalid schema: ${err instanceof Error ? err.message : String(err)}`);
        }
        for (const rejected of regExp.takeRejected()) problem(rejected);
      }
      if (problems.length > 0 || validate === undefined || !schema.ok) throw new ConfigError(problems);
      return Object.freeze({
        contentType: input.contentType,
        schemaFile: file,
        schemaDigest: schema.digest,
        validate: toViolations(validate),
        sensitive: Object.freeze([...input.sensitive]),
        logFields: Object.freeze([...input.logFields]),
      });
    },
  };
}

/** Reads the schema with the strict parser too: a duplicated keyword would silently override its twin. */
function readSchema(
  file: string,
  configFile: string,
  configPath: string,
  problems: ConfigProblem[],
): { ok: true; value: AnySchema; digest: string } | { ok: false } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    problems.push({ file: configFile, path: configPath, message: `cannot read schema file ${file}: ${code}` });
    return { ok: false };
  }
  const parsed = parseStrictJson(bytes, SCHEMA_FILE_LIMITS);
  if (!parsed.ok) {
    problems.push({ file, path: configPath, message: `not valid JSON: ${parsed.reason} at offset ${parsed.offset}` });
    return { ok: false };
  }
  // Any JSON value may reach ajv: validateSchema rejects what is not a schema.
  return { ok: true, value: parsed.value as AnySchema, digest: hash('sha256', bytes, 'base64url') };
}

function metaErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  const specific = errors.filter((e) => !SUMMARY_KEYWORDS.has(e.keyword));
  return specific.length > 0 ? specific : [...errors];
}

function toViolations(validate: ValidateFunction): (value: unknown) => readonly SchemaViolation[] {
  return (value) => {
    if (validate(value)) return [];
    return (validate.errors ?? []).map((e) => ({
      pointer: e.instancePath,
      keyword: e.keyword,
      detail: e.message ?? `fails "${e.keyword}"`,
    }));
  };
}
