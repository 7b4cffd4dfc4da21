import type { FunctionConfig, InputConfig } from '../config/types.js';
import type { PayloadSummary } from '../decision.js';
import type { ReasonCode } from '../errors.js';
import type { SourceKinds } from '../functions/compile-policy.js';
import type { Caller } from '../principal.js';
import type { SchemaCompiler, SchemaViolation } from './json/compile-input.js';
import type { ToolListings } from './jsonrpc/list-tool-servers.js';
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
 *
 * A protocol carried in a media type another kind owns (MCP: JSON-RPC in `application/json`) cannot be
 * chosen by `input.contentType`; it is an {@link EndpointKind}, chosen by a function key of its own
 * (`functions[].mcp`, exclusive with `input`), with the same inspector. Such a protocol may need what a
 * plain body does not, hence three optional members (absent for JSON and gRPC, which behave as before):
 * - {@link PayloadInspector.otherMethods}: HTTP methods its endpoint answers besides `match.method`
 *   (MCP streamable HTTP: DELETE ends a session, GET would open a server stream);
 * - {@link PayloadInspector.authorize}: rules of its own on the caller, chosen by the message (MCP: the
 *   tool's `allow`), checked after parse and before validate, as the function's rules are before the body;
 * - {@link ParsedPayload}'s `note`: what the message is, for the decision log (MCP: method and tool), kept
 *   on the summary of the allow or denial that follows.
 * Adding an endpoint kind touches the same places, with its key in schema.json's `function` instead of under
 * `input`, and `functionMethods` (src/functions/function-registry.ts) if it answers other HTTP methods.
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
  /**
   * The decision-log fields of a valid JSON form: `logFields` values, masked under `sensitive`; undefined
   * when this message has none to log (MCP: a method other than `tools/call`). Called only when
   * `logFields` is not empty.
   */
  summarize(value: unknown): Record<string, unknown> | undefined;
  /** HTTP methods besides `match.method` that reach the function: taken without a body, or refused. */
  readonly otherMethods?: ReadonlyMap<string, 'no-body' | PayloadDenial>;
  /** The message's own rules on the caller (the function's have passed): undefined when permitted. */
  authorize?(value: unknown, caller: Caller): PayloadDenial | undefined;
}

/** `detail` is public; `internal` only reaches the decision log. */
export interface PayloadDenial {
  readonly code: ReasonCode;
  readonly detail: string;
  readonly internal?: string;
}

/** What a kind says a message is, for the decision log; log-safe (plain names, never body values). */
export type PayloadNote = Pick<PayloadSummary, 'jsonrpc'>;

export interface PayloadLimits {
  /** config `payload.maxDepth`: deepest nesting of the JSON form. */
  readonly maxDepth: number;
}

/** `detail` is public (it reaches the caller): built from positions and kinds, never from body values. */
export type ParsedPayload =
  | { ok: true; value: unknown; note?: PayloadNote }
  | { ok: false; code: ReasonCode; detail: string; internal?: string; note?: PayloadNote };

/** What a kind gets to compile one function's `input` block. */
export interface CompileContext {
  readonly configFile: string;
  /** JSON pointer of the `input` block in the config, e.g. `/functions/3/input`. */
  readonly inputPath: string;
  /** The JSON Schema compiler every kind shares (one ajv instance per load). */
  readonly schemas: SchemaCompiler;
  /** Identity sources by name, for a kind with caller rules of its own ({@link PayloadInspector.authorize}). */
  readonly sources: SourceKinds;
  /** What MCP servers listed at this load (schemas of tools without a file), by function name. */
  readonly listings?: ToolListings;
}

export interface PayloadKind {
  /** The `input.contentType` value that selects this kind. */
  readonly contentType: string;
  /** The kind's settings object under `input` (e.g. `grpc`), if it has one; refused on other kinds. */
  readonly section?: keyof InputConfig;
  /** Throws ConfigError listing every problem of this block (its schema and its own files included). */
  compile(input: InputConfig, context: CompileContext): PayloadInspector;
}

/** A payload kind chosen by a function key of its own rather than `input.contentType` (see {@link PayloadInspector}). */
export interface EndpointKind {
  /** The function key that selects this kind; exclusive with `input`. */
  readonly key: 'mcp';
  /** `context.inputPath` is the key's pointer, e.g. `/functions/3/mcp`. Throws ConfigError listing every problem. */
  compile(fn: FunctionConfig, context: CompileContext): PayloadInspector;
}
