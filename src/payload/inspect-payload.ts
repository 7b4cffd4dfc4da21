import type { RequestBody } from '../call-attempt.js';
import type { PayloadSummary, Violation } from '../decision.js';
import type { ReasonCode } from '../errors.js';
import type { CompiledInput, SchemaViolation } from './compile-input.js';
import { formatPointer, isAtOrUnder, parsePointer } from './json-pointer.js';
import { maskFields } from './mask-fields.js';
import { parseMediaType } from './media-type.js';
import { parseStrictJson } from './strict-json.js';

/** At most this many schema violations are returned; the detail says how many there were. */
export const MAX_VIOLATIONS = 20;

/** Allowed with a log-safe summary, or a denial as a value (never an exception). */
export type PayloadResult =
  | { ok: true; summary: PayloadSummary }
  | { ok: false; code: ReasonCode; detail: string; violations: readonly Violation[]; summary: PayloadSummary; internal?: string };

/**
 * Checks a request body against its function's `input`: whole, declared media type, strict JSON,
 * schema. Nothing from the body reaches `detail`, `violations` or `summary` except masked `logFields`
 * values and, in violation pointers, the body's own key names.
 */
export function inspectPayload(
  input: CompiledInput | undefined,
  body: RequestBody,
  contentType: string | undefined,
  limits: { maxDepth: number },
  contentEncoding?: string,
): PayloadResult {
  // No `input` block: the function takes no body (schema.json `input`: "Absent: the call must carry no body").
  if (input === undefined) return requireNoBody(body, contentType);
  const parsed = readJsonBody(input.contentType, body, contentType, limits, contentEncoding);
  if (!parsed.ok) return parsed;
  const { summary } = parsed;
  const found = input.validate(parsed.value);
  if (found.length === 0) {
    // logFields are recorded only for a body that matched the schema: a rejected body may carry
    // anything (a caller can put a secret in a logged field), so it is summarized by size alone.
    return { ok: true, summary: input.logFields.length > 0 ? { ...summary, fields: maskFields(parsed.value, input) } : summary };
  }
  return schemaDenial(found, input.sensitive, summary);
}

/**
 * ERR_BODY_SCHEMA for `found` (at most {@link MAX_VIOLATIONS} listed), pointers cut at `sensitive` ones
 * and then prefixed with `at` (where the validated value sits in the body).
 */
export function schemaDenial(
  found: readonly SchemaViolation[],
  sensitive: readonly string[],
  summary: PayloadSummary,
  at = '',
  what = 'the request body',
): Extract<PayloadResult, { ok: false }> {
  const violations: Violation[] = found.slice(0, MAX_VIOLATIONS).map((v) => ({
    code: 'ERR_BODY_SCHEMA',
    pointer: at + truncateAtSensitive(v.pointer, sensitive),
    keyword: v.keyword,
    detail: v.detail,
  }));
  const count = found.length === 1 ? '1 violation' : `${found.length} violations`;
  const listed = found.length > MAX_VIOLATIONS ? `, first ${MAX_VIOLATIONS} listed` : '';
  return { ok: false, code: 'ERR_BODY_SCHEMA', detail: `${what} does not match the schema (${count}${listed})`, violations, summary };
}

/** Allowed when the call carries no body at all. */
export function requireNoBody(body: RequestBody, contentType: string | undefined): PayloadResult {
  const summary = summaryOf(body, contentType);
  return (body.bytes?.length ?? 0) > 0 || body.partial ? deny(summary, 'ERR_CONTENT_TYPE', 'this function takes no request body') : { ok: true, summary };
}

/**
 * A JSON body read as the function receives it: whole, the declared media type, uncompressed, UTF-8,
 * strict JSON (the first steps of every JSON-based payload kind).
 */
export function readJsonBody(
  mediaType: string,
  body: RequestBody,
  contentType: string | undefined,
  limits: { maxDepth: number },
  contentEncoding?: string,
): { ok: true; value: unknown; summary: PayloadSummary } | Extract<PayloadResult, { ok: false }> {
  const summary = summaryOf(body, contentType);
  // Envoy ext_authz `allow_partial_message`: a truncated body is a prefix; validating it proves nothing.
  if (body.partial) return deny(summary, 'ERR_BODY_PARTIAL', 'the request body exceeds the size callguard inspects');
  // The bytes validated must be the bytes the function decodes: a compressed body would be checked
  // as raw bytes (RFC 9110 §8.4). Only the identity coding is accepted.
  if (contentEncoding !== undefined && contentEncoding.trim().toLowerCase() !== 'identity') {
    return deny(summary, 'ERR_CONTENT_TYPE', 'content-encoding is not accepted; send the body uncompressed');
  }
  const media = contentType === undefined ? undefined : parseMediaType(contentType);
  if (media === undefined || media.essence !== mediaType) return deny(summary, 'ERR_CONTENT_TYPE', `the content type must be ${mediaType}`);
  // RFC 8259 §8.1: JSON exchanged between systems is UTF-8.
  if (media.charset !== undefined && media.charset !== 'utf-8') return deny(summary, 'ERR_CONTENT_TYPE', 'the charset must be utf-8');
  if (body.bytes === undefined || body.bytes.length === 0) return deny(summary, 'ERR_BODY_MISSING', 'this function requires a request body');
  const parsed = parseStrictJson(body.bytes, limits);
  if (!parsed.ok) return deny(summary, 'ERR_BODY_INVALID_JSON', `${parsed.reason} at offset ${parsed.offset}`);
  return { ok: true, value: parsed.value, summary };
}

function summaryOf(body: RequestBody, contentType: string | undefined): PayloadSummary {
  const bytes = body.bytes?.length ?? 0;
  const media = contentType === undefined ? undefined : parseMediaType(contentType);
  return media === undefined ? { bytes } : { contentType: media.essence, bytes };
}

function deny(summary: PayloadSummary, code: ReasonCode, detail: string): Extract<PayloadResult, { ok: false }> {
  return { ok: false, code, detail, violations: [], summary };
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
