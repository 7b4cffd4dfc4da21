import { RE2JS } from 're2js';
import type { ListStringMatcher, StringMatcher } from '../gen/envoy/type/matcher/v3/string_pb.js';

/**
 * Envoy's StringMatcher (type/matcher/v3/string.proto) on one value: exact, prefix, suffix, contains,
 * `ignore_case`, and `safe_regex` (RE2, whole-string match). `undefined` for a custom matcher or a
 * regex that does not compile: the linter cannot tell.
 */
export function matchString(matcher: StringMatcher, value: string): boolean | undefined {
  const fold = (s: string) => (matcher.ignoreCase ? s.toLowerCase() : s);
  const pattern = matcher.matchPattern;
  switch (pattern.case) {
    case 'exact':
      return fold(value) === fold(pattern.value);
    case 'prefix':
      return fold(value).startsWith(fold(pattern.value));
    case 'suffix':
      return fold(value).endsWith(fold(pattern.value));
    case 'contains':
      return fold(value).includes(fold(pattern.value));
    case 'safeRegex':
      try {
        return RE2JS.compile(pattern.value.regex).matches(value);
      } catch {
        return undefined;
      }
    default:
      return undefined;
  }
}

/** Whether any pattern of a ListStringMatcher matches (`undefined` when one cannot be evaluated and none matched). */
export function matchList(list: ListStringMatcher, value: string): boolean | undefined {
  let unknown = false;
  for (const matcher of list.patterns) {
    const result = matchString(matcher, value);
    if (result === true) return true;
    if (result === undefined) unknown = true;
  }
  return unknown ? undefined : false;
}
