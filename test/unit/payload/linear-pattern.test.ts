import { describe, expect, it } from 'vitest';
import { linearRegExp } from '../../../src/payload/linear-pattern.js';
import { createRe2Engine } from '../../../src/payload/regexp-engine.js';

describe('linearRegExp: only provably linear patterns run natively', () => {
  it.each([
    '^[A-Z]{3}-[0-9]{4,8}$',
    '^[0-9A-Z -]{3,10}$',
    '^[A-Z]{2}$',
    '^ord-[0-9]+$',
    '^[0-9]{12,19}$',
    '^[a-z][a-z0-9_]*$',
    '^\\d+\\.\\d+$',
    '^[^@]+@[a-z.]+$',
    '^.{1,50}$',
    '^[a-z]+',
    '^\\w+-\\d*$',
    '^[\\-a]?b$',
    '^a{0,3}b{2}$',
    '^[^\\n]*$',
    '^x/y$',
  ])('native: %s', (pattern) => {
    expect(linearRegExp(pattern)).toBeInstanceOf(RegExp);
  });

  it.each([
    ['^(a+)+$', 'group'],
    ['^a*a*b$', 'overlapping variable atoms'],
    ['^[a-z]+[a-z0-9]$', 'variable atom overlaps the next'],
    ['^[a-z]*[0-9]?x$', 'overlap through an optional atom'],
    ['^.*x$', 'dot overlaps'],
    ['^\\w+\\d$', '\\w contains \\d'],
    ['[a-z]+$', 'unanchored start: every start position is tried'],
    ['^a|b$', 'alternation'],
    ['^a+?b$', 'lazy quantifier'],
    ['^\\s+$', '\\s stays on RE2'],
    ['^\\p{L}+$', 'property escape'],
    ['^(?=a)a$', 'lookahead'],
    ['^a{1001}$', 'count beyond RE2'],
    ['^[]a$', 'empty class'],
    ['^a$b', 'anchor mid-pattern'],
    ['^a\\\\$', 'escaped backslash before $ (conservatively refused)'],
  ])('RE2: %s (%s)', (pattern) => {
    expect(linearRegExp(pattern)).toBeUndefined();
  });
});

// Differential: where the fast path applies, it must answer exactly as the RE2 path does.
describe('the native fast path agrees with the RE2 path', () => {
  const fast = createRe2Engine();
  const re2 = createRe2Engine({ linearFastPath: false });
  const patterns = [
    '^[A-Z]{3}-[0-9]{4,8}$',
    '^[0-9A-Z -]{3,10}$',
    '^.{1,5}$',
    '^[^@]+@[a-z.]+$',
    '^\\w+-\\d*$',
    '^[^\\n]*$',
    '^[a-z]+',
    '^a{0,3}b{2}$',
    '^é+ß?$',
    '^[\\u{1F600}]$',
  ];
  const alphabet = ['A', 'Z', 'a', 'z', '0', '9', '-', ' ', '.', '@', '\n', '\r', '\u2028', '\u00a0', 'é', 'ß', '😀', '_', 'b'];
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const values = Array.from({ length: 400 }, () =>
    Array.from({ length: Math.floor(random() * 12) }, () => alphabet[Math.floor(random() * alphabet.length)]).join(''),
  );
  values.push('ABC-0001037', 'AB-1234', 'SW1Y 4JH', 'a@b.c', 'abc-', 'bb', 'aaabb', 'ébß');
  it.each(patterns)('%s', (pattern) => {
    const a = fast(pattern, 'u');
    const b = re2(pattern, 'u');
    for (const value of values) expect([value, a.test(value)]).toEqual([value, b.test(value)]);
    expect(fast.takeRejected()).toEqual([]);
  });
});
