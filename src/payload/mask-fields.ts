import { formatPointer, isArrayIndex, isAtOrUnder, parsePointer, WILDCARD } from './json-pointer.js';

/** The value recorded instead of anything at or under an `input.sensitive` pointer. */
export const MASKED = '[masked]';
/** At most this many fields are recorded, however far wildcards expand. */
export const MAX_LOGGED_FIELDS = 50;
/** Longer string values are cut to this many characters, then `…`. */
export const MAX_LOGGED_STRING = 200;

export interface FieldRules {
  readonly logFields: readonly string[];
  readonly sensitive: readonly string[];
}

/**
 * The decision-log view of a parsed body: each `logFields` pointer (wildcards expanded to concrete
 * RFC 6901 pointers) mapped to its value, masked when at or under a `sensitive` pointer. Objects and
 * arrays are summarized (`[object]`, `[array n]`), never copied, so nothing nested can slip through.
 */
export function maskFields(body: unknown, rules: FieldRules): Record<string, unknown> {
  const { sensitive, logFields, maskAll, fixed } = parsedRules(rules);
  if (fixed !== undefined) return maskFixed(body, fixed);
  const fields: Record<string, unknown> = {};
  let count = 0;
  const record = (tokens: readonly string[], value: unknown): boolean => {
    const pointer = formatPointer(tokens);
    if (Object.hasOwn(fields, pointer)) return true;
    if (count++ >= MAX_LOGGED_FIELDS) return false;
    const masked = maskAll || sensitive.some((s) => s !== undefined && isAtOrUnder(tokens, s));
    fields[pointer] = masked ? MASKED : summarize(value);
    return true;
  };
  for (const pattern of logFields) {
    if (pattern !== undefined && !expand(body, pattern, [], record)) break;
  }
  return fields;
}

interface ParsedRules {
  readonly sensitive: readonly (readonly string[] | undefined)[];
  readonly logFields: readonly (readonly string[] | undefined)[];
  /** Fail closed: a malformed sensitive pointer (compile rejects these) masks everything. */
  readonly maskAll: boolean;
  /**
   * When no logFields pointer has a wildcard (the usual case), each one's pointer text and masking
   * are fixed at load: the call only looks the value up. Same result as the general path (tested).
   */
  readonly fixed: readonly FixedField[] | undefined;
}

interface FixedField {
  readonly tokens: readonly string[];
  readonly pointer: string;
  readonly masked: boolean;
}

function maskFixed(body: unknown, fixed: readonly FixedField[]): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  let count = 0;
  for (const field of fixed) {
    const found = lookup(body, field.tokens);
    if (found === NOT_FOUND || Object.hasOwn(fields, field.pointer)) continue;
    if (count++ >= MAX_LOGGED_FIELDS) break;
    fields[field.pointer] = field.masked ? MASKED : summarize(found);
  }
  return fields;
}

const NOT_FOUND: unique symbol = Symbol('not-found');

/** The value at `tokens` (no wildcards), with the same rules as {@link expand}. */
function lookup(value: unknown, tokens: readonly string[]): unknown {
  let at = value;
  for (const token of tokens) {
    if (typeof at !== 'object' || at === null) return NOT_FOUND;
    if (Array.isArray(at)) {
      const index = isArrayIndex(token) ? Number(token) : -1;
      if (index < 0 || index >= at.length) return NOT_FOUND;
      at = at[index];
    } else {
      if (!Object.hasOwn(at, token)) return NOT_FOUND;
      at = (at as Record<string, unknown>)[token];
    }
  }
  return at;
}

/** Rules are per function and fixed at load: parse their pointers once, not on every call. */
const parsed = new WeakMap<FieldRules, ParsedRules>();

function parsedRules(rules: FieldRules): ParsedRules {
  let entry = parsed.get(rules);
  if (entry === undefined) {
    const sensitive = rules.sensitive.map(parsePointer);
    const logFields = rules.logFields.map(parsePointer);
    const maskAll = sensitive.includes(undefined);
    const static_ = logFields.every((tokens) => tokens !== undefined && !tokens.includes(WILDCARD));
    const fixed = static_
      ? (logFields as (readonly string[])[]).map((tokens) => ({
          tokens,
          pointer: formatPointer(tokens),
          masked: maskAll || sensitive.some((s) => s !== undefined && isAtOrUnder(tokens, s)),
        }))
      : undefined;
    entry = { sensitive, logFields, maskAll, fixed };
    parsed.set(rules, entry);
  }
  return entry;
}

/** Visits each concrete location matching `pattern`; stops (returns false) when `visit` does. */
function expand(value: unknown, pattern: readonly string[], at: string[], visit: (tokens: readonly string[], value: unknown) => boolean): boolean {
  const token = pattern[at.length];
  if (token === undefined) return visit(at, value);
  if (typeof value !== 'object' || value === null) return true;
  const step = (key: string, child: unknown): boolean => {
    at.push(key);
    const more = expand(child, pattern, at, visit);
    at.pop();
    return more;
  };
  if (Array.isArray(value)) {
    if (token === WILDCARD) return value.every((child, i) => step(String(i), child));
    const index = isArrayIndex(token) ? Number(token) : -1;
    return index >= 0 && index < value.length ? step(token, value[index]) : true;
  }
  const obj = value as Record<string, unknown>;
  if (token === WILDCARD) return Object.keys(obj).every((key) => step(key, obj[key]));
  return Object.hasOwn(obj, token) ? step(token, obj[token]) : true;
}

function summarize(value: unknown): unknown {
  if (Array.isArray(value)) return `[array ${value.length}]`;
  if (typeof value === 'object' && value !== null) return '[object]';
  if (typeof value === 'string' && value.length > MAX_LOGGED_STRING) return `${value.slice(0, MAX_LOGGED_STRING)}…`;
  return value;
}
