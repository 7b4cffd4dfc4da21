import { describe, expect, it } from 'vitest';
import { parseStrictJson } from '../../../src/payload/strict-json.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const parse = (text: string | Uint8Array, maxDepth = 32) => parseStrictJson(typeof text === 'string' ? utf8(text) : text, { maxDepth });
const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

describe('parseStrictJson accepts RFC 8259 texts', () => {
  it.each([
    { name: 'object', text: '{"a":1,"b":[true,false,null],"c":{"d":"e"}}', value: { a: 1, b: [true, false, null], c: { d: 'e' } } },
    { name: 'scalar root', text: '"x"', value: 'x' },
    { name: 'surrounding whitespace', text: ' \t\r\n[ 1 , 2 ]\n', value: [1, 2] },
    { name: 'empty containers', text: '{"a":{},"b":[]}', value: { a: {}, b: [] } },
    { name: 'escapes', text: '"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9"', value: '"\\/\b\f\n\r\t\u00e9' },
    { name: 'valid surrogate pair', text: '"\\ud83d\\ude00"', value: '\u{1F600}' },
    { name: 'raw non-ASCII', text: '"h\u00e9\u{1F600}"', value: 'h\u00e9\u{1F600}' },
    { name: 'largest exact integer', text: '9007199254740991', value: 9007199254740991 },
    { name: 'smallest exact integer', text: '-9007199254740991', value: -9007199254740991 },
    { name: 'fraction', text: '1.5', value: 1.5 },
    { name: 'exponent', text: '[-0.5e-3,2E+2,0]', value: [-0.0005, 200, 0] },
    { name: 'duplicate keys in sibling objects', text: '[{"a":1},{"a":2}]', value: [{ a: 1 }, { a: 2 }] },
    { name: 'depth exactly maxDepth', text: nested(32), value: JSON.parse(nested(32)) },
  ])('$name', ({ text, value }) => {
    const result = parse(text);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.value).toEqual(value);
  });
});

describe('parseStrictJson refuses', () => {
  it.each([
    { name: 'empty text', text: '', offset: 0, reason: /end of input/ },
    { name: 'duplicate key', text: '{"a":1,"a":2}', offset: 7, reason: /duplicate object key/ },
    { name: 'duplicate key after unescaping', text: '{"a":1,"\\u0061":2}', offset: 7, reason: /duplicate object key/ },
    { name: 'duplicate __proto__', text: '{"__proto__":1,"__proto__":2}', offset: 15, reason: /duplicate object key/ },
    { name: 'depth maxDepth + 1', text: nested(33), offset: 32, reason: /nesting deeper than 32/ },
    { name: 'depth of objects', text: `${'{"a":'.repeat(33)}1${'}'.repeat(33)}`, offset: 160, reason: /nesting deeper/ },
    { name: 'lone high surrogate', text: '"\\ud83d"', offset: 1, reason: /lone high surrogate/ },
    { name: 'high surrogate then non-surrogate', text: '"\\ud83d\\u0041"', offset: 1, reason: /lone high surrogate/ },
    { name: 'lone low surrogate', text: '"\\ude00"', offset: 1, reason: /lone low surrogate/ },
    { name: 'reversed pair', text: '"\\ude00\\ud83d"', offset: 1, reason: /lone low surrogate/ },
    { name: '2^53 + 1', text: '9007199254740993', offset: 0, reason: /cannot be represented exactly/ },
    { name: '-(2^53 + 1)', text: '[-9007199254740993]', offset: 1, reason: /cannot be represented exactly/ },
    { name: '2^53', text: '9007199254740992', offset: 0, reason: /cannot be represented exactly/ },
    { name: '1e300', text: '1e300', offset: 0, reason: /cannot be represented exactly/ },
    { name: 'overflow to Infinity', text: '1e400', offset: 0, reason: /out of range/ },
    { name: 'leading zero', text: '01', offset: 0, reason: /leading zeros/ },
    { name: 'negative leading zero', text: '-012', offset: 1, reason: /leading zeros/ },
    { name: 'bare minus', text: '-', offset: 1, reason: /expected a digit/ },
    { name: 'leading plus', text: '+1', offset: 0, reason: /expected a JSON value/ },
    { name: 'bare decimal point', text: '1.', offset: 2, reason: /after the decimal point/ },
    { name: 'leading decimal point', text: '.5', offset: 0, reason: /expected a JSON value/ },
    { name: 'empty exponent', text: '1e', offset: 2, reason: /exponent/ },
    { name: 'trailing comma in array', text: '[1,]', offset: 3, reason: /expected a JSON value/ },
    { name: 'trailing comma in object', text: '{"a":1,}', offset: 7, reason: /expected a string key/ },
    { name: 'line comment', text: '[1]// c', offset: 3, reason: /after the JSON value/ },
    { name: 'block comment', text: '[/* c */1]', offset: 1, reason: /expected a JSON value/ },
    { name: 'NaN', text: 'NaN', offset: 0, reason: /expected a JSON value/ },
    { name: '-Infinity', text: '-Infinity', offset: 1, reason: /expected a digit/ },
    { name: 'single quotes', text: "{'a':1}", offset: 1, reason: /expected a string key/ },
    { name: 'unquoted key', text: '{a:1}', offset: 1, reason: /expected a string key/ },
    { name: 'missing colon', text: '{"a" 1}', offset: 5, reason: /expected ':'/ },
    { name: 'missing comma', text: '[1 2]', offset: 3, reason: /expected ',' or '\]'/ },
    { name: 'unclosed object', text: '{"a":1', offset: 6, reason: /expected ',' or '}'/ },
    { name: 'trailing garbage', text: '{} x', offset: 3, reason: /after the JSON value/ },
    { name: 'two documents', text: '1 2', offset: 2, reason: /after the JSON value/ },
    { name: 'raw control character', text: '"a\u0001b"', offset: 2, reason: /control character/ },
    { name: 'raw newline in string', text: '"a\nb"', offset: 2, reason: /control character/ },
    { name: 'unterminated string', text: '"abc', offset: 4, reason: /unterminated string/ },
    { name: 'invalid escape', text: '"\\x41"', offset: 1, reason: /invalid escape/ },
    { name: 'short \\u escape', text: '"\\u12"', offset: 5, reason: /invalid \\u escape/ },
    { name: 'truncated literal', text: 'tru', offset: 0, reason: /expected a JSON value/ },
    { name: 'capitalised literal', text: 'True', offset: 0, reason: /expected a JSON value/ },
    { name: 'form feed as whitespace', text: '\f1', offset: 0, reason: /expected a JSON value/ },
    { name: 'no-break space as whitespace', text: '\u00a01', offset: 0, reason: /expected a JSON value/ },
    { name: 'BOM', text: utf8('\ufeff{}'), offset: 0, reason: /byte order mark/ },
    { name: 'invalid UTF-8 byte', text: Uint8Array.of(0x22, 0x61, 0xff, 0x22), offset: 2, reason: /invalid UTF-8/ },
    { name: 'overlong encoding', text: Uint8Array.of(0x22, 0xc0, 0xaf, 0x22), offset: 1, reason: /invalid UTF-8/ },
    { name: 'UTF-8 encoded surrogate', text: Uint8Array.of(0x22, 0xed, 0xa0, 0x80, 0x22), offset: 1, reason: /invalid UTF-8/ },
    { name: 'truncated UTF-8 sequence', text: Uint8Array.of(0x22, 0xe2, 0x82), offset: 1, reason: /invalid UTF-8/ },
  ])('$name', ({ text, offset, reason }) => {
    const result = parse(text);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toMatch(reason);
      expect(result.offset).toBe(offset);
    }
  });

  it('never quotes the input in its reason', () => {
    const result = parse('{"password":"hunter2-secret",}');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).not.toMatch(/hunter2|password/);
  });
});

describe('parseStrictJson object construction', () => {
  it('keeps __proto__ as an own data property, not the prototype', () => {
    const result = parse('{"__proto__":{"polluted":true},"a":1}');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const value = result.value as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value).toEqual({ polluted: true });
    expect((value as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it.each([
    { name: 'constructor', key: 'constructor' },
    { name: 'toString', key: 'toString' },
    { name: 'hasOwnProperty', key: 'hasOwnProperty' },
  ])('$name key is plain data', ({ key }) => {
    const result = parse(`{"${key}":1}`);
    expect(result.ok && Object.hasOwn(result.value as object, key)).toBe(true);
  });

  it('rejects a non-positive maxDepth as misuse', () => {
    expect(() => parseStrictJson(utf8('1'), { maxDepth: 0 })).toThrow(TypeError);
  });
});

describe('parseStrictJson: numbers must mean what they say', () => {
  const parse = (text: string) => parseStrictJson(new TextEncoder().encode(text), { maxDepth: 8 });
  it.each([
    { name: 'more precision than a double', text: '100.000000000000001', ok: false },
    { name: 'tiny fraction on an integer', text: '1.0000000000000000001', ok: false },
    { name: 'underflow to zero', text: '1e-400', ok: false },
    { name: 'shortest double form with 17 digits', text: '0.30000000000000004', ok: true },
    { name: 'same with trailing zeros', text: '0.300000000000000040000', ok: true },
    { name: 'ordinary decimal', text: '0.1', ok: true },
    { name: 'zero with many digits', text: '0.0000000000000000000', ok: true },
    { name: 'negative long decimal', text: '-123.456789012345678', ok: false },
    { name: 'exponent form', text: '1.5e-7', ok: true },
  ])('$name', ({ text, ok }) => {
    expect(parse(text).ok).toBe(ok);
  });
});

// The native fast path must answer exactly as the strict parser whenever it answers at all.
describe('parseStrictJson fast path agrees with the strict parser', () => {
  const both = (text: string, maxDepth = 8) => {
    const bytes = utf8(text);
    return [parseStrictJson(bytes, { maxDepth }), parseStrictJson(bytes, { maxDepth, fastPath: false })];
  };
  const corpus = [
    '{"a":1,"b":[true,false,null],"c":{"d":"e"}}',
    '{"a":1,"a":2}',
    '{"a":{"b":1,"b":1}}',
    '[{"a":1},{"a":1}]',
    '{"a":1,"\\u0061":2}',
    '{"__proto__":{"x":1}}',
    '{"__proto__":1,"__proto__":2}',
    '{"1":1,"0":0,"b":2,"a":1}',
    '"\\ud83d\\ude00"',
    '"\\ud83d"',
    '"\\uDC00x"',
    '"\\u00e9\\uD7FF\\uE000"',
    '"a:b{c}[d]\\"e\\\\"',
    '[1.5,-0,0.1,123456789012345,1234567890123456,9007199254740993,1e400,1e-400,-1.0e2]',
    '[100.000000000000001, 0.30000000000000004, 12345678901234567890]',
    '[[[[[[[[1]]]]]]]]',
    '[[[[[[[[[1]]]]]]]]]',
    '{"a":[1,2,{"b":[3,{"c":4}]}],"d":"x:y"}',
    '{"a":1,}',
    '[1,2',
    '01',
    '{"a" 1}',
    ' \t\n{"k": "v"} \r\n',
    '"\u2028\u2029"',
    '"raw\u0001control"',
    'nul',
    '{"a":"\\x"}',
  ];
  it.each(corpus)('%s', (text) => {
    const [fast, strict] = both(text);
    expect(fast).toEqual(strict);
    if (fast?.ok && strict?.ok) expect(Object.keys((fast.value as object) ?? {})).toEqual(Object.keys((strict.value as object) ?? {}));
  });

  it('agrees on seeded random documents and their mutations', () => {
    let seed = 11;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const keys = ['a', 'b', 'a', '__proto__', '0', 'é', 'k:v', '\\u0061'];
    const scalars = ['1', '-2.5', '0', '123456789012345678', '1e3', 'true', 'null', '"s"', '"\\ud800"', '"x\\"y"', '"é😀"'];
    const gen = (depth: number): string => {
      const r = random(depth > 4 ? 1 : 3);
      if (r === 0) return scalars[random(scalars.length)] as string;
      if (r === 1) return `[${Array.from({ length: random(4) }, () => gen(depth + 1)).join(',')}]`;
      return `{${Array.from({ length: random(4) }, () => `"${keys[random(keys.length)]}":${gen(depth + 1)}`).join(',')}}`;
    };
    const chars = ['"', ':', ',', '{', '}', '[', ']', '\\', 'u', '1', 'e', ' '];
    for (let i = 0; i < 3000; i++) {
      let text = gen(0);
      if (i % 3 === 0) {
        const at = random(text.length + 1);
        text = text.slice(0, at) + chars[random(chars.length)] + text.slice(at + (random(2) === 0 ? 1 : 0));
      }
      const [fast, strict] = both(text);
      expect([text, fast]).toEqual([text, strict]);
    }
  });
});

describe('parseStrictJson for schema files (exactNumbers: false)', () => {
  it('keeps the strict range check: 1e400 is refused, not read as Infinity', () => {
    const result = parseStrictJson(utf8('{"maximum":1e400}'), { maxDepth: 8, exactNumbers: false });
    expect(result.ok ? 'accepted' : result.reason).toMatch(/out of range/);
  });
});
