/**
 * RFC 6901 JSON pointers, as used by `input.sensitive` / `input.logFields` and in schema violations.
 * A `*` token is a wildcard (any object key or array index) in configured patterns.
 */

/** A token that matches any object key or array index in a {@link parsePointer} pattern. */
export const WILDCARD = '*';

/** Splits a pointer into unescaped tokens (RFC 6901 §3–4); `''` is the root. Undefined if malformed. */
export function parsePointer(pointer: string): string[] | undefined {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return undefined;
  // RFC 6901 §3: `~` only in `~0` and `~1`.
  if (/~(?![01])/.test(pointer)) return undefined;
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** Joins tokens into a pointer, escaping `~` then `/` (RFC 6901 §3). */
export function formatPointer(tokens: readonly string[]): string {
  let out = '';
  for (const token of tokens) out += `/${token.replaceAll('~', '~0').replaceAll('/', '~1')}`;
  return out;
}

/** RFC 6901 §4: an array index token is `0` or digits without a leading zero. */
export function isArrayIndex(token: string): boolean {
  return /^(?:0|[1-9][0-9]{0,15})$/.test(token);
}

/** True when `tokens` is at or below `pattern` (each pattern token equal or {@link WILDCARD}). */
export function isAtOrUnder(tokens: readonly string[], pattern: readonly string[]): boolean {
  if (pattern.length > tokens.length) return false;
  return pattern.every((p, i) => p === WILDCARD || p === tokens[i]);
}
