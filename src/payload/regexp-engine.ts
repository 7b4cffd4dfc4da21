import { RE2JS } from 're2js';
import { linearRegExp } from './linear-pattern.js';

/** What ajv calls on a compiled pattern. */
export interface PatternMatcher {
  test(value: string): boolean;
  /** ajv shares compiled patterns by this key. */
  toString(): string;
}

/**
 * ajv's `code.regExp` engine running schema `pattern` / `patternProperties` on RE2 (re2js), which
 * matches in time linear in the input: a schema author's `^(a+)+$` cannot become a ReDoS against us.
 *
 * A pattern must be valid ECMA-262 (JSON Schema 2020-12 Validation §6.3.3) and also compile on RE2,
 * so backreferences and lookaround are refused. Where RE2 and ECMA-262 differ on the same text, the
 * pattern is rewritten to ECMA-262's meaning first ({@link toEcmaSemantics}): `.` excludes every line
 * terminator and `\s`/`\S` are Unicode whitespace, so `^\S+$` refuses a no-break space as a schema
 * author expects. A refused pattern does not throw (ajv would stop at the first): it is recorded for
 * {@link Re2Engine.takeRejected} and replaced by a matcher that never matches.
 *
 * Acceptance is always RE2's. A pattern that is also in the provably linear subset of
 * linear-pattern.ts (anchored sequences of deterministic atoms, such as `^[A-Z]{3}-[0-9]{4,8}$`)
 * is matched by V8's native engine instead, ~10× faster and with ECMA-262 semantics by definition.
 */
export interface Re2Engine {
  (pattern: string, flags: string): PatternMatcher;
  /** For ajv standalone code generation, which callguard does not use. */
  readonly code: string;
  /** Problems with patterns seen since the last call, then forgets them. */
  takeRejected(): string[];
}

/** `linearFastPath: false` keeps every pattern on RE2 (tests compare the two engines). */
export function createRe2Engine(options: { linearFastPath?: boolean } = {}): Re2Engine {
  const fastPath = options.linearFastPath ?? true;
  let rejected: string[] = [];
  let refusedCount = 0;
  const engine = (pattern: string): PatternMatcher => {
    try {
      new RegExp(pattern, 'u'); // syntax check only, never executed
    } catch {
      return refuse(`pattern ${JSON.stringify(pattern)} is not an ECMA-262 regular expression`);
    }
    try {
      const rewritten = toEcmaSemantics(pattern);
      if (typeof rewritten !== 'string') return refuse(`pattern ${JSON.stringify(pattern)}: ${rewritten.problem}`);
      // RE2 decides what is accepted; a pattern in the provably linear subset then runs natively.
      const re2 = RE2JS.compile(RE2JS.translateRegExp(rewritten));
      const matcher: { test(value: string): boolean } = (fastPath ? linearRegExp(pattern) : undefined) ?? re2;
      // One key per pattern text, whichever engine runs it (ajv shares matchers by this key).
      return { test: (value) => matcher.test(value), toString: () => pattern };
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return refuse(`pattern ${JSON.stringify(pattern)} is not supported by the linear-time RE2 engine (${why})`);
    }
  };
  function refuse(problem: string): PatternMatcher {
    rejected.push(problem);
    // ajv caches matchers by `toString()`; a unique key keeps this stub from being reused for the pattern.
    const key = `\0refused-pattern-${refusedCount++}`;
    return { test: () => false, toString: () => key };
  }
  return Object.assign(engine, {
    code: 'require("re2js").RE2JS.compile',
    takeRejected(): string[] {
      const out = rejected;
      rejected = [];
      return out;
    },
  });
}

/** ECMA-262 WhiteSpace and LineTerminator code points (what `\s` means there), as class contents. */
const ECMA_SPACE = '\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
/** ECMA-262 `.` without the `s` flag: anything but a line terminator. */
const ECMA_DOT = '[^\\n\\r\\u2028\\u2029]';

/**
 * Rewrites `.`, `\s` and `\S` to their ECMA-262 meaning, leaving everything else as written.
 * `\S` inside a character class has no class-content equivalent and is refused.
 */
export function toEcmaSemantics(pattern: string): string | { problem: string } {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      i++;
      if (next === 's') out += inClass ? ECMA_SPACE : `[${ECMA_SPACE}]`;
      else if (next === 'S') {
        if (inClass) return { problem: '\\S inside a character class is not supported; write a negated class instead' };
        out += `[^${ECMA_SPACE}]`;
      } else out += c + next;
    } else if (c === '[' && !inClass) {
      inClass = true;
      out += c;
      // A `]` right after `[` or `[^` is a literal in ECMA-262 only as `\]`; nothing to special-case.
    } else if (c === ']' && inClass) {
      inClass = false;
      out += c;
    } else if (c === '.' && !inClass) out += ECMA_DOT;
    else out += c;
  }
  return out;
}
