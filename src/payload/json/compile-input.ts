import { hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Ajv2020, type AnySchema, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import formatsPlugin from 'ajv-formats';
import type { InputConfig } from '../../config/types.js';
import { ConfigError, type ConfigProblem } from '../../errors.js';
import { parsePointer } from '../json-pointer.js';
import { createRe2Engine } from '../regexp-engine.js';
import { parseStrictJson } from '../strict-json.js';
import { fromDraft07 } from './from-draft-07.js';
import { findRefusedConstructs, type RefusedConstruct } from './schema-constructs.js';
import { addStricterFormats } from './strict-formats.js';

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
  /**
   * Throws {@link ConfigError} listing every problem found with this input block and its schema: the file
   * `input.schema`, or `listed` (a schema received from elsewhere, e.g. an MCP server's `tools/list`;
   * `input.schema` then names where it came from).
   */
  compile(input: InputConfig, configFile: string, configPath: string, listed?: ListedSchema): CompiledInput;
}

/** A schema callguard received rather than read from a file: its JSON value, parsed strictly (no duplicate keys). */
export interface ListedSchema {
  readonly value: unknown;
  /** SHA-256 (base64url) naming it in the policy digest. */
  readonly digest: string;
}

// Schemas are config, not request data: deep nesting is fine, numbers need not be exact integers.
const SCHEMA_FILE_LIMITS = { maxDepth: 1000, exactNumbers: false } as const;
// Meta-schema summaries that only repeat the specific errors next to them.
const SUMMARY_KEYWORDS = new Set(['anyOf', 'oneOf', 'if']);
// One value of each JSON type: a schema that throws on one of them (endless recursion) is refused at load.
const PROBES: readonly unknown[] = [null, true, 0, 0.5, '', [], {}];

/**
 * Compiles function body schemas (JSON Schema 2020-12, or draft-07 where it means the same: see
 * fromDraft07) with ajv, strict (unknown keywords and formats, keywords whose type is not declared
 * beside them are load errors), patterns on RE2 (see
 * createRe2Engine), constructs ajv gets wrong refused (findRefusedConstructs) and some formats
 * tightened (addStricterFormats). No option that changes data (`useDefaults`, `coerceTypes`,
 * `removeAdditional`): what is validated is what the function receives. Every problem of a schema is
 * reported at once: ajv's strict checks log instead of throwing, and the log is collected.
 */
export function createSchemaCompiler(): SchemaCompiler {
  const regExp = createRe2Engine();
  const strictLog: string[] = [];
  const collect = (...args: unknown[]): void => void strictLog.push(args.map(String).join(' '));
  // addUsedSchema: false keeps a schema's `$id` out of the shared registry, so two files may share one.
  const ajv = new Ajv2020({
    allErrors: true,
    strict: 'log',
    logger: { log: () => {}, warn: collect, error: collect },
    addUsedSchema: false,
    code: { regExp },
  });
  formatsPlugin.default(ajv);
  addStricterFormats(ajv);
  // ajv resolves "#name" references to `$anchor` (2020-12 Core §8.2.2) but does not list the keyword.
  ajv.addKeyword('$anchor');
  let compiledCount = 0;
  const known = { keywords: new Set(Object.keys(ajv.RULES.keywords)), formats: new Set(Object.keys(ajv.formats)) };

  return {
    compile(input, configFile, configPath, listed) {
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
      const schema =
        listed === undefined
          ? readSchema(file, configFile, configPath, problems)
          : { ok: true as const, value: listed.value as AnySchema, digest: listed.digest };
      let validate: ValidateFunction | undefined;
      if (schema.ok) {
        const problem = (message: string): void => void problems.push({ file, path: configPath, message });
        const refuse = (r: RefusedConstruct): void => problem(`schema ${r.pointer || '(root)'}: ${r.message}`);
        // A draft-07 schema is compiled as the 2020-12 schema that means the same, or refused before the meta check.
        const dialect = fromDraft07(schema.value);
        const value = dialect.schema as AnySchema;
        if (dialect.refused.length > 0) {
          for (const r of dialect.refused) refuse(r);
        } else if (!validSchema(value, problem)) {
          for (const e of metaErrors(ajv.errors ?? [])) problem(`schema ${e.instancePath || '(root)'}: ${e.message ?? e.keyword}`);
        } else {
          const refused = findRefusedConstructs(value, known);
          for (const r of refused) refuse(r);
          // ajv's own "unknown keyword" lines carry no pointer: dropped when the walk named that keyword already.
          const named = new Set(refused.map((r) => /^unknown keyword: ("[^"]*")/.exec(r.message)?.[1]).filter((k) => k !== undefined));
          const compiled = compileLogged(withBaseId(value, ++compiledCount), refused.length > 0, named, problem);
          if (refused.length === 0) validate = compiled;
        }
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

  /** ajv's meta-schema check; an unknown `$schema` throws there, a problem like any other. */
  function validSchema(value: AnySchema, problem: (message: string) => void): boolean {
    try {
      return ajv.validateSchema(value) as boolean;
    } catch (err) {
      problem(`invalid schema: ${err instanceof Error ? err.message : String(err)}`);
      ajv.errors = null;
      return false;
    }
  }

  /**
   * ajv's compile with its strict log and RE2's refusals as problems; probed once per JSON type. A schema
   * already refused is compiled only for the problems ajv finds, its formats stripped (an unknown one
   * throws and would hide the rest), and never probed.
   */
  function compileLogged(
    value: AnySchema,
    refusedAlready: boolean,
    unknownNamed: ReadonlySet<string>,
    problem: (message: string) => void,
  ): ValidateFunction | undefined {
    strictLog.length = 0;
    regExp.takeRejected();
    let validate: ValidateFunction | undefined;
    try {
      validate = ajv.compile(refusedAlready ? withoutFormats(value) : value);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof RangeError) problem(`ajv cannot compile this schema (${message}): its references recurse without end while compiling`);
      else problem(`invalid schema: ${message}`);
    }
    for (const line of strictLog.splice(0)) {
      const unknown = /unknown keyword: ("[^"]*")/.exec(line)?.[1];
      if (unknown === undefined || !unknownNamed.has(unknown)) problem(strictProblem(line));
    }
    for (const rejected of regExp.takeRejected()) problem(rejected);
    if (validate === undefined || refusedAlready) return undefined;
    for (const probe of PROBES) {
      try {
        validate(probe);
      } catch (err) {
        problem(`the schema cannot be evaluated (${err instanceof Error ? err.message : String(err)}): a reference cycle that consumes no data?`);
        return undefined;
      }
    }
    return validate;
  }
}

/**
 * The schema with a base URI when it has no `$id` of its own (2020-12 Core §8.2.1: the retrieval URI
 * is the base): ajv resolves `"$ref": "#"` only against a registered base, and `addUsedSchema: false`
 * registers none. A unique `.invalid` URL (RFC 2606) per file, so relative references stay in it.
 */
function withBaseId(schema: AnySchema, n: number): AnySchema {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema) || '$id' in schema) return schema;
  return { $id: `https://callguard.invalid/schemas/${n}.json`, ...schema };
}

/** A copy of the schema without any `format` keyword with a string value (for collecting ajv's other problems). */
function withoutFormats(value: unknown): AnySchema {
  if (Array.isArray(value)) return value.map(withoutFormats);
  if (typeof value !== 'object' || value === null) return value as AnySchema;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k, v]) => !(k === 'format' && typeof v === 'string'))
      .map(([k, v]) => [k, withoutFormats(v)]),
  );
}

/** `strict mode: missing type "object" for keyword "properties" at "#/anyOf/0" (strictTypes)` → `schema /anyOf/0: missing type …`. */
function strictProblem(line: string): string {
  const match = /^strict mode: (.*?)(?: at "[^"#]*#([^"]*)")?( \(\w+\))?$/s.exec(line);
  if (match === null) return `schema: ${line}`;
  const [, what, pointer, which] = match;
  return `schema ${pointer === undefined || pointer === '' ? '(root)' : pointer}: ${what}${which ?? ''}`;
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
