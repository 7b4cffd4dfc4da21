import type { RequestBody } from '../call-attempt.js';
import type { PayloadSummary, Violation } from '../decision.js';
import { REASONS, type ReasonCode } from '../errors.js';
import type { Caller } from '../principal.js';
import type { SchemaViolation } from './json/compile-input.js';
import { formatPointer, isAtOrUnder, parsePointer } from './json-pointer.js';
import { parseMediaType } from './media-type.js';
import type { PayloadDenial, PayloadInspector, PayloadLimits } from './payload-inspector.js';

/** At most this many schema violations are returned; the detail says how many there were. */
export const MAX_VIOLATIONS = 20;

/** Allowed with a log-safe summary, or a denial as a value (never an exception). */
export type PayloadResult =
  | { ok: true; summary: PayloadSummary }
  | { ok: false; code: ReasonCode; detail: string; violations: readonly Violation[]; summary: PayloadSummary; internal?: string };

/** The request beyond its body, for kinds that judge the HTTP method or have caller rules of their own (MCP). */
export interface PayloadCall {
  readonly method: string;
  readonly caller: Caller;
}

/**
 * Checks a request body against its function's `input` inspector (chosen at load by media type): whole,
 * not content-encoded, the declared media type, parsed by the kind, the schema. Nothing from the body
 * reaches `detail`, `violations` or `summary` except masked `logFields` values and, in violation
 * pointers, the body's own key names. `call` is what an endpoint kind needs besides (see
 * PayloadInspector.otherMethods, authorize); without it, a message with rules of its own is refused.
 */
export function inspectPayload(
  input: PayloadInspector | undefined,
  body: RequestBody,
  contentType: string | undefined,
  limits: PayloadLimits,
  contentEncoding?: string,
  call?: PayloadCall,
): PayloadResult {
  const bytes = body.bytes?.length ?? 0;
  const media = contentType === undefined ? undefined : parseMediaType(contentType);
  let summary: PayloadSummary = media === undefined ? { bytes } : { contentType: media.essence, bytes };
  const deny = (code: ReasonCode, detail: string, violations: readonly Violation[] = [], internal?: string): PayloadResult =>
    internal === undefined ? { ok: false, code, detail, violations, summary } : { ok: false, code, detail, violations, summary, internal };

  // No `input` block: the function takes no body (schema.json `input`: "Absent: the call must carry no body").
  // An endpoint kind may take some HTTP methods without a body, and refuse others (otherMethods).
  const other = call === undefined ? undefined : input?.otherMethods?.get(call.method);
  if (input === undefined || other === 'no-body') {
    return bytes > 0 || body.partial ? deny('ERR_CONTENT_TYPE', 'this function takes no request body') : { ok: true, summary };
  }
  if (other !== undefined) return deny(other.code, other.detail, [], other.internal);
  // Envoy ext_authz `allow_partial_message`: a truncated body is a prefix; validating it proves nothing.
  if (body.partial) return deny('ERR_BODY_PARTIAL', 'the request body exceeds the size callguard inspects');
  // The bytes validated must be the bytes the function decodes: a compressed body would be checked
  // as raw bytes (RFC 9110 §8.4). Only the identity coding is accepted.
  if (contentEncoding !== undefined && contentEncoding.trim().toLowerCase() !== 'identity') {
    return deny('ERR_CONTENT_TYPE', 'content-encoding is not accepted; send the body uncompressed');
  }
  if (media === undefined) return deny('ERR_CONTENT_TYPE', `the content type must be ${input.contentType}`);
  const unrecognized = input.recognize(media);
  if (unrecognized !== undefined) return deny('ERR_CONTENT_TYPE', unrecognized);
  if (body.bytes === undefined || bytes === 0) return deny('ERR_BODY_MISSING', 'this function requires a request body');

  const parsed = input.parse(body.bytes, limits);
  if (parsed.note !== undefined) summary = { ...summary, ...parsed.note };
  if (!parsed.ok) return deny(parsed.code, parsed.detail, [], parsed.internal);
  if (input.authorize !== undefined) {
    // Fail closed: rules of the message's own cannot pass without a caller to match them against.
    const refused: PayloadDenial | undefined =
      call === undefined ? { code: 'ERR_NOT_PERMITTED', detail: 'no caller to check' } : input.authorize(parsed.value, call.caller);
    if (refused !== undefined) return deny(refused.code, refused.detail, [], refused.internal);
  }

  let found: readonly SchemaViolation[];
  try {
    found = input.validate(parsed.value);
  } catch (err) {
    // A schema that throws on this body (e.g. recursion without end) denies the call, named for the log, never a crash.
    const internal = `schema ${input.schemaFile}: ${err instanceof Error ? err.message : String(err)}`;
    return { ok: false, code: 'ERR_BODY_SCHEMA_FAULT', detail: REASONS.ERR_BODY_SCHEMA_FAULT.title, violations: [], summary, internal };
  }
  if (found.length === 0) {
    // logFields are recorded only for a body that matched the schema: a rejected body may carry
    // anything (a caller can put a secret in a logged field), so it is summarized by size alone.
    const fields = input.logFields.length > 0 ? input.summarize(parsed.value) : undefined;
    return { ok: true, summary: fields === undefined ? summary : { ...summary, fields } };
  }
  const violations: Violation[] = found.slice(0, MAX_VIOLATIONS).map((v) => ({
    code: 'ERR_BODY_SCHEMA',
    pointer: truncateAtSensitive(v.pointer, input.sensitive),
    keyword: v.keyword,
    detail: v.detail,
  }));
  const count = found.length === 1 ? '1 violation' : `${found.length} violations`;
  const listed = found.length > MAX_VIOLATIONS ? `, first ${MAX_VIOLATIONS} listed` : '';
  return { ok: false, code: 'ERR_BODY_SCHEMA', detail: `the request body does not match the schema (${count}${listed})`, violations, summary };
}

/**
 * A violation under a `sensitive` pointer is reported at that pointer: with map-shaped schemas the
 * deeper keys are the caller's data (a key can itself be a secret), so they are not echoed.
 */
function truncateAtSensitive(pointer: string, sensitive: readonly string[]): string {
  const tokens = parsePointer(pointer);
  if (tokens === undefined) return pointer;
  for (const s of sensitive) {
    const pattern = parsePointer(s);
    if (pattern !== undefined && isAtOrUnder(tokens, pattern)) return formatPointer(tokens.slice(0, pattern.length));
  }
  return pointer;
}
