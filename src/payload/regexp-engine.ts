import { RE2JS } from 're2js';

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
 * so backreferences and lookaround are refused. Semantics follow RE2: `.` excludes only `\n`, `\s` is
 * ASCII whitespace. A refused pattern does not throw (ajv would stop at the first): it is recorded for
 * {@link Re2Engine.takeRejected} and replaced by a matcher that never matches.
 */
export interface Re2Engine {
  (pattern: string, flags: string): PatternMatcher;
  /** For ajv standalone code generation, which callguard does not use. */
  readonly code: string;
  /** Problems with patterns seen since the last call, then forgets them. */
  takeRejected(): string[];
}

export function createRe2Engine(): Re2Engine {
  let rejected: string[] = [];
  let refusedCount = 0;
  const engine = (pattern: string): PatternMatcher => {
    try {
      new RegExp(pattern, 'u'); // syntax check only, never executed
    } catch {
      return refuse(`pattern ${JSON.stringify(pattern)} is not an ECMA-262 regular expression`);
    }
    try {
      return RE2JS.compile(RE2JS.translateRegExp(pattern));
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
