import type { InputConfig } from '../config/types.js';
import type { ReasonCode } from '../errors.js';
import type { SchemaCompiler, SchemaViolation } from './json/compile-input.js';
import type { FieldRules } from './mask-fields.js';
import type { MediaType } from './media-type.js';

/**
 * One payload kind's checks for one function, compiled at load from its `input` block and chosen by the
 * block's `contentType`. {@link inspectPayload} runs the steps every kind shares (a whole body, no
 * `content-encoding`, a well-formed `content-type`, violations capped and truncated at `sensitive`
 * pointers) and calls these in order: recognize → parse → validate → summarize.
 *
 * Every kind parses the body into a JSON form (`parse`): the function's JSON Schema, `sensitive` and
 * `logFields` (RFC 6901 pointers) all apply to that form, so a kind never reimplements masking.
 *
 * Adding a payload kind touches:
 * 1. `src/payload/<kind>/`: a {@link PayloadKind} (its compile and its inspector) and what it needs;
 * 2. `src/payload/payload-kinds.ts`: the kind added to its `KINDS` list;
 * 3. `src/config/schema.json` + `src/config/types.ts`: the media type in `input.contentType`'s enum, and the
 *    kind's own settings as one object under `input` (named after the kind, e.g. `input.grpc`), then
 *    `npm run docs`;
 * 4. `src/errors.ts`, only if the kind denies with a code of its own (plus its README row);
 * 5. tests: `test/unit/payload/<kind>/`, and the Check path in `test/integration/`.
 * Nothing in decide, the Envoy adapter or the decision log changes.
 */
export interface PayloadInspector extends FieldRules {
  /** The media type (essence) the function accepts, as configured; named in ERR_CONTENT_TYPE details. */
  readonly contentType: string;
  /** The function's JSON Schema file (as configured, resolved): named in the operator's detail of ERR_BODY_SCHEMA_FAULT. */
  readonly schemaFile: string;
  /** SHA-256 (base64url) over every file the inspector was compiled from: part of the policy digest. */
  readonly digest: string;
  /** Whether the request's media type is this kind's: undefined when accepted, else the public detail of ERR_CONTENT_TYPE. */
  recognize(media: MediaType): string | undefined;
  /** The body's JSON form, or a denial. Never throws for any bytes. */
  parse(bytes: Uint8Array, limits: PayloadLimits): ParsedPayload;
  /** Every way the JSON form breaks the function's schema; `[]` when valid. */
  validate(value: unknown): readonly SchemaViolation[];
  /** The decision-log fields of a valid JSON form: `logFields` values, masked under `sensitive`. */
  summarize(value: unknown): Record<string, unknown>;
}

export interface PayloadLimits {
  /** config `payload.maxDepth`: deepest nesting of the JSON form. */
  readonly maxDepth: number;
}

/** `detail` is public (it reaches the caller): built from positions and kinds, never from body values. */
export type ParsedPayload = { ok: true; value: unknown } | { ok: false; code: ReasonCode; detail: string };

/** What a kind gets to compile one function's `input` block. */
export interface CompileContext {
  readonly configFile: string;
  /** JSON pointer of the `input` block in the config, e.g. `/functions/3/input`. */
  readonly inputPath: string;
  /** The JSON Schema compiler every kind shares (one ajv instance per load). */
  readonly schemas: SchemaCompiler;
}

export interface PayloadKind {
  /** The `input.contentType` value that selects this kind. */
  readonly contentType: string;
  /** The kind's settings object under `input` (e.g. `grpc`), if it has one; refused on other kinds. */
  readonly section?: keyof InputConfig;
  /** Throws ConfigError listing every problem of this block (its schema and its own files included). */
  compile(input: InputConfig, context: CompileContext): PayloadInspector;
}
