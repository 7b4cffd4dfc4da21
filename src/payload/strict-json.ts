import { invalidUtf8Offset } from './utf8-offset.js';

/**
 * Strict RFC 8259 JSON parser for request bodies.
 *
 * `JSON.parse` is lenient where an authorization check must not be: it keeps the last of duplicate keys
 * (the function behind us may keep the first), silently rounds integers beyond 2^53 and accepts lone
 * surrogates. A body that two parsers could read differently is refused instead of guessed at.
 */

/** The parsed value, or where and why the body is not acceptable. `reason` never quotes the input. */
export type StrictJsonResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly offset: number; readonly reason: string };

export interface StrictJsonOptions {
  /** Deepest allowed nesting of objects and arrays (`[]` is depth 1). */
  readonly maxDepth: number;
  /** Refuse numbers beyond ±(2^53−1), which no IEEE double holds exactly (RFC 8259 §6). Default true. */
  readonly exactNumbers?: boolean;
  /** Try the native fast path first (default true; tests turn it off to compare both paths). */
  readonly fastPath?: boolean;
}

// RFC 8259 §8.1: UTF-8 only. `ignoreBOM` keeps a BOM in the text so it is refused, not silently dropped.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parses UTF-8 bytes as exactly one RFC 8259 JSON text.
 * Offsets are UTF-16 code-unit indexes into the decoded text, or byte indexes for encoding errors.
 */
export function parseStrictJson(bytes: Uint8Array, options: StrictJsonOptions): StrictJsonResult {
  if (!Number.isInteger(options.maxDepth) || options.maxDepth < 1) throw new TypeError('maxDepth must be a positive integer');
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { ok: false, offset: 0, reason: 'a byte order mark is not allowed (RFC 8259 §8.1)' };
  }
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return { ok: false, offset: invalidUtf8Offset(bytes), reason: 'invalid UTF-8 (RFC 8259 §8.1)' };
  }
  const exactNumbers = options.exactNumbers ?? true;
  // Only with exact numbers (request bodies): schema files keep the strict parser's number checks.
  if (exactNumbers && (options.fastPath ?? true)) {
    const fast = parseFast(text, options.maxDepth);
    if (fast !== NOT_FAST) return { ok: true, value: fast };
  }
  const parser = new Parser(text, options.maxDepth, exactNumbers);
  try {
    return { ok: true, value: parser.document() };
  } catch (err) {
    if (err instanceof ParseFailure) return { ok: false, offset: err.offset, reason: err.reason };
    throw err;
  }
}

const NOT_FAST: unique symbol = Symbol('not-fast');

/**
 * The fast path: `JSON.parse` (native) after one scan that proves the text has none of the things on
 * which it is lenient and the strict parser is not. The scan counts object members, tracks depth and
 * looks at every `\u` escape and number token; `JSON.parse` checks the grammar. Anything unusual
 * (a surrogate escape, a number with an exponent or more than 15 characters, nesting past the limit,
 * a syntax error, fewer members after parsing than in the text, i.e. a duplicate key) returns
 * NOT_FAST, and the strict parser then decides and words the error. Where the fast path answers,
 * its value is the strict parser's (same keys in the same order, same numbers; `__proto__` stays an
 * own key with `JSON.parse` too); a differential test holds them together.
 */
function parseFast(text: string, maxDepth: number): unknown {
  let depth = 0;
  let members = 0;
  const n = text.length;
  // Strings are skipped with native indexOf; only a string holding a backslash is walked by hand.
  let nextEscape = text.indexOf('\\');
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let close = text.indexOf('"', i + 1);
      if (nextEscape !== -1 && nextEscape < close) {
        for (i++; i < n; i++) {
          const d = text.charCodeAt(i);
          if (d === 0x22) break;
          if (d === 0x5c) {
            if (text.charCodeAt(i + 1) === 0x75 && isSurrogateEscape(text, i + 2)) return NOT_FAST;
            i++;
          }
        }
        close = i;
        nextEscape = text.indexOf('\\', close);
      }
      if (close === -1) return NOT_FAST; // unterminated: the strict parser says where
      i = close;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return NOT_FAST;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === 0x3a) {
      members++;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      for (; i + 1 < n; i++) {
        const d = text.charCodeAt(i + 1);
        if ((d | 0x20) === 0x65) return NOT_FAST; // exponent: range and precision checks needed
        if (!((d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x2b || d === 0x2d)) break;
      }
      // ≤ 15 characters: at most 15 significant digits, below 2^53, no precision check needed.
      if (i + 1 - start > 15) return NOT_FAST;
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return NOT_FAST;
  }
  return countMembers(value) === members ? value : NOT_FAST;
}

/** `\uXXXX` at `i` (the four hex digits) names a UTF-16 surrogate (D800–DFFF). */
function isSurrogateEscape(text: string, i: number): boolean {
  return (text.charCodeAt(i) | 0x20) === 0x64 && isHighHexDigit(text.charCodeAt(i + 1));
}

/** 8, 9, a–f, A–F: the second hex digit of D800–DFFF. */
function isHighHexDigit(c: number): boolean {
  return c === 0x38 || c === 0x39 || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

/** Object members in a parsed value, all levels. */
function countMembers(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let count = 0;
  if (Array.isArray(value)) {
    for (const item of value) count += countMembers(item);
    return count;
  }
  for (const key in value) {
    count += 1 + countMembers((value as Record<string, unknown>)[key]);
  }
  return count;
}

/** Control flow only: thrown inside the parser, converted to a result above, never escapes this module. */
class ParseFailure {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {}
}

// RFC 8259 §7: the two-character escapes.
const ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

class Parser {
  private pos = 0;
  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
    private readonly exactNumbers: boolean,
  ) {}

  document(): unknown {
    this.ws();
    const value = this.value(0);
    this.ws();
    if (this.pos !== this.text.length) throw new ParseFailure(this.pos, 'unexpected content after the JSON value');
    return value;
  }

  /** RFC 8259 §2: insignificant whitespace is space, tab, LF and CR only. */
  private ws(): void {
    const t = this.text;
    let c = t.charCodeAt(this.pos);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = t.charCodeAt(++this.pos);
  }

  private value(depth: number): unknown {
    const c = this.text.charCodeAt(this.pos);
    if (c === 0x22) return this.string();
    if (c === 0x2d || isDigit(c)) return this.number();
    if (c === 0x7b) return this.object(depth + 1);
    if (c === 0x5b) return this.array(depth + 1);
    if (c === 0x74) return this.literal('true', true);
    if (c === 0x66) return this.literal('false', false);
    if (c === 0x6e) return this.literal('null', null);
    throw new ParseFailure(this.pos, Number.isNaN(c) ? 'unexpected end of input' : 'expected a JSON value');
  }

  private literal<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) throw new ParseFailure(this.pos, 'expected a JSON value');
    this.pos += word.length;
    return value;
  }

  private enter(depth: number): void {
    if (depth > this.maxDepth) throw new ParseFailure(this.pos, `nesting deeper than ${this.maxDepth}`);
    this.pos++;
    this.ws();
  }

  private object(depth: number): Record<string, unknown> {
    this.enter(depth);
    const obj: Record<string, unknown> = {};
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return obj;
    }
    for (;;) {
      const keyAt = this.pos;
      if (this.text.charCodeAt(keyAt) !== 0x22) throw new ParseFailure(keyAt, 'expected a string key');
      const key = this.string();
      // RFC 8259 §4: names SHOULD be unique; receivers disagree on duplicates, so they are refused.
      if (Object.hasOwn(obj, key)) throw new ParseFailure(keyAt, 'duplicate object key (RFC 8259 §4)');
      this.ws();
      if (this.text.charCodeAt(this.pos) !== 0x3a) throw new ParseFailure(this.pos, "expected ':'");
      this.pos++;
      this.ws();
      const member = this.value(depth);
      // Plain assignment of "__proto__" would replace the prototype; define it as ordinary data instead.
      if (key === '__proto__') {
        Object.defineProperty(obj, key, { value: member, writable: true, enumerable: true, configurable: true });
      } else {
        obj[key] = member;
      }
      this.ws();
      const c = this.text.charCodeAt(this.pos++);
      if (c === 0x7d) return obj;
      if (c !== 0x2c) throw new ParseFailure(this.pos - 1, "expected ',' or '}'");
      this.ws();
    }
  }

  private array(depth: number): unknown[] {
    this.enter(depth);
    const arr: unknown[] = [];
    if (this.text.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return arr;
    }
    for (;;) {
      arr.push(this.value(depth));
      this.ws();
      const c = this.text.charCodeAt(this.pos++);
      if (c === 0x5d) return arr;
      if (c !== 0x2c) throw new ParseFailure(this.pos - 1, "expected ',' or ']'");
      this.ws();
    }
  }

  /** RFC 8259 §7. Fast path: a string without escapes is one slice. */
  private string(): string {
    const t = this.text;
    let i = this.pos + 1;
    let chunk = i;
    let out = '';
    for (;;) {
      const c = t.charCodeAt(i);
      if (c === 0x22) {
        this.pos = i + 1;
        return out + t.slice(chunk, i);
      }
      if (c === 0x5c) {
        out += t.slice(chunk, i);
        i = this.escape(i);
        out += this.unescaped;
        chunk = i;
        continue;
      }
      // `!(c >= 0x20)` also catches NaN, the end of the text.
      if (!(c >= 0x20)) {
        throw new ParseFailure(i, i >= t.length ? 'unterminated string' : 'unescaped control character in string (RFC 8259 §7)');
      }
      i++;
    }
  }

  private unescaped = '';

  /** Decodes the escape at `i` into `this.unescaped`; returns the index after it. */
  private escape(i: number): number {
    const c = this.text.charAt(i + 1);
    const simple = ESCAPES[c];
    if (simple !== undefined) {
      this.unescaped = simple;
      return i + 2;
    }
    if (c !== 'u') throw new ParseFailure(i, 'invalid escape sequence');
    const unit = this.hex4(i + 2);
    // RFC 8259 §8.2: an escaped surrogate must be half of a pair, or the string is not Unicode text.
    if (unit >= 0xdc00 && unit <= 0xdfff) throw new ParseFailure(i, 'lone low surrogate in \\u escape (RFC 8259 §8.2)');
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const low = this.text.charCodeAt(i + 6) === 0x5c && this.text.charCodeAt(i + 7) === 0x75 ? this.hex4(i + 8) : -1;
      if (low < 0xdc00 || low > 0xdfff) throw new ParseFailure(i, 'lone high surrogate in \\u escape (RFC 8259 §8.2)');
      this.unescaped = String.fromCharCode(unit, low);
      return i + 12;
    }
    this.unescaped = String.fromCharCode(unit);
    return i + 6;
  }

  private hex4(i: number): number {
    let unit = 0;
    for (let k = i; k < i + 4; k++) {
      const c = this.text.charCodeAt(k);
      const d = isDigit(c) ? c - 0x30 : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66 ? (c | 0x20) - 0x57 : -1;
      if (d < 0) throw new ParseFailure(k, 'invalid \\u escape');
      unit = unit * 16 + d;
    }
    return unit;
  }

  /** RFC 8259 §6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`. */
  private number(): number {
    const t = this.text;
    const start = this.pos;
    let i = start;
    if (t.charCodeAt(i) === 0x2d) i++;
    const first = t.charCodeAt(i++);
    if (first === 0x30) {
      if (isDigit(t.charCodeAt(i))) throw new ParseFailure(i - 1, 'leading zeros are not allowed');
    } else if (isDigit(first)) {
      while (isDigit(t.charCodeAt(i))) i++;
    } else {
      throw new ParseFailure(i - 1, 'expected a digit');
    }
    if (t.charCodeAt(i) === 0x2e) {
      if (!isDigit(t.charCodeAt(++i))) throw new ParseFailure(i, 'expected a digit after the decimal point');
      while (isDigit(t.charCodeAt(i))) i++;
    }
    const mantissaEnd = i;
    if ((t.charCodeAt(i) | 0x20) === 0x65) {
      const sign = t.charCodeAt(++i);
      if (sign === 0x2b || sign === 0x2d) i++;
      if (!isDigit(t.charCodeAt(i))) throw new ParseFailure(i, 'expected a digit in the exponent');
      while (isDigit(t.charCodeAt(i))) i++;
    }
    const value = Number(t.slice(start, i));
    if (!Number.isFinite(value)) throw new ParseFailure(start, 'number is out of range');
    // Every double beyond 2^53−1 is an integer that may stand for several decimal values.
    if (this.exactNumbers && Math.abs(value) > Number.MAX_SAFE_INTEGER) {
      throw new ParseFailure(start, 'integer beyond ±(2^53−1) cannot be represented exactly (RFC 8259 §6)');
    }
    // A literal with more than 15 significant digits may name a value no double holds: then the
    // schema would check one number and a decimal-exact function read another (100.000000000000001
    // passing `maximum: 100`). Such literals must be exactly the shortest form of their double.
    if (this.exactNumbers && value === 0 && significand(t.slice(start, mantissaEnd)) !== '') {
      throw new ParseFailure(start, 'number underflows to zero');
    }
    if (this.exactNumbers && mantissaEnd - start > 15 && significand(t.slice(start, i)) !== significand(String(value))) {
      throw new ParseFailure(start, 'number has more precision than a double holds');
    }
    this.pos = i;
    return value;
  }
}

/** The significant digits of a decimal literal: no sign, point, exponent, leading or trailing zeros. */
function significand(literal: string): string {
  const e = literal.search(/[eE]/);
  const digits = (e === -1 ? literal : literal.slice(0, e)).replace(/[-+.]/g, '');
  return digits.replace(/^0+/, '').replace(/0+$/, '');
}
