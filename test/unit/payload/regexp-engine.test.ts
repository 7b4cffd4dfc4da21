import { describe, expect, it } from 'vitest';
import { createRe2Engine } from '../../../src/payload/regexp-engine.js';

// Differential: for safe patterns, the linear-time engine must agree with ECMA-262 (what schema authors test with).
const patterns = ['^\\S+$', '^.+$', '^\\s*$', '^[\\s,]+$', '^[a.]+$', '^\\.$', '^\\\\s$', '^[^\\s]+$', '^\\d{3}-\\w+$', '^(a+)+$'];
const values = ['ab', 'a\u00a0b', 'a\u3000b', 'a\rb', 'a\u2028b', '\ufeff', ' \t', ', ,', 'a.a', '.', '\\s', '123-abc', 'aaaa', 'aaaa!'];

describe('re2 engine agrees with ECMA-262 on .  \\s  \\S', () => {
  const engine = createRe2Engine({ linearFastPath: false });
  const cases = patterns.flatMap((pattern) => values.map((value) => ({ name: `${JSON.stringify(pattern)} ~ ${JSON.stringify(value)}`, pattern, value })));
  it.each(cases)('$name', ({ pattern, value }) => {
    expect(engine(pattern, 'u').test(value)).toBe(new RegExp(pattern, 'u').test(value));
  });

  it('refuses \\S inside a class, with a reason', () => {
    engine('^[\\S]+$', 'u');
    expect(engine.takeRejected()).toEqual([expect.stringMatching(/\\S inside a character class is not supported/)]);
  });
});
