import { isUtf8 } from 'node:buffer';
import type { HeaderValueFacts, HttpFacts } from './read-check-request.js';

/** The request's headers in one shape, whichever of its two shapes Envoy sent, or why not. */
export type HeadersResult =
  | { readonly ok: true; readonly headers: Readonly<Record<string, string>> }
  | { readonly ok: false; readonly code: 'ERR_HEADER_INVALID' | 'ERR_REQUEST_MALFORMED'; readonly internal: string };

/**
 * `attributes.request.http.headers` or `.header_map` → one record of lower-cased names to values, with
 * a repeated header's values joined by ',' in order: the shape Envoy itself gives `headers`, so every
 * later stage means the same thing by a header whichever shape arrived (two `Authorization` lines are
 * `ERR_CREDENTIAL_AMBIGUOUS` either way, never "first wins").
 *
 * What Envoy 1.40 sends (check_request_utils.cc, `CheckRequestUtils::setHttpRequest`):
 * - `encode_raw_headers: false` (default): `headers` only. Values pass `MessageUtil::sanitizeUtf8String`
 *   (invalid UTF-8 bytes become '!'); a repeated key's values are appended with ','.
 * - `encode_raw_headers: true`: `header_map` only (`headers` stays empty), one `HeaderValue` per header
 *   line with `key` and the unsanitized bytes in `raw_value` (`headerMapAddHeader`; `value` is never
 *   set there); repeated keys are separate entries, never joined.
 * - In both, the pseudo-headers (`:method`, `:path`, `:authority`, `:scheme`) are entries like any
 *   other, and `allowed_headers` / `disallowed_headers` filter every entry by name, pseudo-headers and
 *   `authorization` included: for a gRPC service nothing is added back (ext_authz.cc `FilterConfig`
 *   builds the matcher with `toRequestMatchers(..., add_http_headers = false)`). A header the filter
 *   drops is simply absent here, so a credential Envoy was not told to forward reads as no credential.
 * - `x-envoy-auth-partial-body` is added after the filter (a caller's copy is skipped), in both shapes.
 *
 * Raw bytes are not guessed at: a value must be RFC 9110 §5.5 field content (HTAB, SP, VCHAR,
 * obs-text) whose obs-text bytes form UTF-8, else `ERR_HEADER_INVALID`. (With `headers` Envoy has
 * already replaced invalid UTF-8 by '!' and the same request is decided on that text, which is not
 * what the upstream receives; given the bytes, callguard refuses rather than pick an encoding.)
 * Both shapes non-empty is not something Envoy sends: accepted only when they say the same,
 * otherwise `ERR_REQUEST_MALFORMED` (which one would the upstream see?).
 */
export function toRequestHeaders(http: Pick<HttpFacts, 'headers' | 'headerMap'>): HeadersResult {
  const entries = http.headerMap?.headers;
  if (entries === undefined || entries.length === 0) return { ok: true, headers: http.headers };
  const joined = joinHeaderMap(entries);
  if (!joined.ok || Object.keys(http.headers).length === 0) return joined;
  const differs = firstDifference(http.headers, joined.headers);
  if (differs === undefined) return joined;
  return { ok: false, code: 'ERR_REQUEST_MALFORMED', internal: `headers and header_map are both set and disagree on ${differs}` };
}

/** Envoy's names: lower-case tokens (RFC 9110 §5.1), or a pseudo-header. Anything else is not from Envoy. */
const HEADER_NAME = /^:?[a-z0-9!#$%&'*+.^_`|~-]+$/;

function joinHeaderMap(entries: readonly HeaderValueFacts[]): HeadersResult {
  const headers: Record<string, string> = {};
  for (const entry of entries) {
    const { key } = entry;
    if (!HEADER_NAME.test(key)) return { ok: false, code: 'ERR_REQUEST_MALFORMED', internal: 'header_map holds a name that is not a lower-case header name' };
    // base.proto HeaderValue: "Only one of value or raw_value can be set"; Envoy sets raw_value.
    if (entry.value !== '' && entry.rawValue.length > 0) {
      return { ok: false, code: 'ERR_REQUEST_MALFORMED', internal: `header_map entry ${loggable(key)} sets both value and raw_value` };
    }
    const value = entry.rawValue.length > 0 ? decodeFieldValue(entry.rawValue) : checkFieldValue(entry.value);
    if (typeof value !== 'string') return { ok: false, code: 'ERR_HEADER_INVALID', internal: `header ${loggable(key)} ${value.problem}` };
    if (Object.hasOwn(headers, key)) headers[key] = `${headers[key]},${value}`;
    // Own data property even for "__proto__", never a prototype change (as readCheckRequest does).
    else if (key === '__proto__') Object.defineProperty(headers, key, { value, writable: true, enumerable: true, configurable: true });
    else headers[key] = value;
  }
  return { ok: true, headers };
}

type Refusal = { readonly problem: string };
const CONTROL: Refusal = { problem: 'holds a control character' };
const NOT_UTF8: Refusal = { problem: 'is not UTF-8' };

/** RFC 9110 §5.5 field-vchar / SP / HTAB bytes, decoded as UTF-8 (obs-text that is not UTF-8 is refused). */
function decodeFieldValue(bytes: Uint8Array): string | Refusal {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (isControl(b)) return CONTROL;
    if (b > 0x7f) ascii = false;
  }
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (ascii) return buffer.toString('latin1');
  return isUtf8(buffer) ? buffer.toString('utf8') : NOT_UTF8;
}

/** A `value` string (valid UTF-8 already, as a proto3 string): the same control-character rule. */
function checkFieldValue(value: string): string | Refusal {
  for (let i = 0; i < value.length; i++) {
    if (isControl(value.charCodeAt(i))) return CONTROL;
  }
  return value;
}

/** RFC 9110 §5.5: a field value holds HTAB, SP, VCHAR and obs-text; any other control character is refused. */
function isControl(code: number): boolean {
  return (code < 0x20 && code !== 0x09) || code === 0x7f;
}

/** The first name on which two header records differ, for the log; undefined when they are equal. */
function firstDifference(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): string | undefined {
  const names = Object.keys(a);
  if (names.length !== Object.keys(b).length) return 'which headers there are';
  for (const name of names) {
    if (!Object.hasOwn(b, name) || a[name] !== b[name]) return loggable(name);
  }
  return undefined;
}

/** A header name for the decision log: quoted, at most 64 characters (names are the caller's choice). */
function loggable(name: string): string {
  return JSON.stringify(name.length <= 64 ? name : `${name.slice(0, 64)}…`);
}
