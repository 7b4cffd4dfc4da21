import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InputConfig } from '../../../../src/config/types.js';
import { ConfigError } from '../../../../src/errors.js';
import { createSchemaCompiler } from '../../../../src/payload/json/compile-input.js';

const CONFIG = '/etc/callguard/callguard.yaml';
const PATH = '/functions/2/input/schema';
let dir: string;

/** Writes `content` (a value to serialize, or raw text) as a schema file; returns its path. */
function schemaFile(name: string, content: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}
const inputFor = (schema: string, extra: Partial<InputConfig> = {}): InputConfig => ({
  contentType: 'application/json',
  schema,
  sensitive: [],
  logFields: [],
  ...extra,
});
function problemsOf(fn: () => unknown): ConfigError['problems'] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'callguard-schema-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('createSchemaCompiler refuses bad schemas with ConfigError', () => {
  it.each([
    { name: 'unreadable file', content: undefined, inConfigFile: true, messages: [/cannot read schema file .*ENOENT/] },
    { name: 'invalid JSON', content: '{"type": "object",}', inConfigFile: false, messages: [/not valid JSON: expected a string key at offset 18/] },
    { name: 'duplicated keyword', content: '{"type":"object","type":"string"}', inConfigFile: false, messages: [/duplicate object key/] },
    { name: 'unknown keyword (strict)', content: { type: 'string', maxLenght: 3 }, inConfigFile: false, messages: [/unknown keyword: "maxLenght"/] },
    { name: 'unknown format (strict)', content: { type: 'string', format: 'emial' }, inConfigFile: false, messages: [/unknown format "emial"/] },
    {
      name: 'meta-schema violations, all listed',
      content: { type: 'strin', minLength: -1 },
      inConfigFile: false,
      messages: [/schema \/type: must be equal to one of the allowed values/, /schema \/type: must be array/, /schema \/minLength: must be >= 0/],
    },
    {
      name: 'foreign $schema',
      content: { $schema: 'http://example.com/my-meta-schema', type: 'string' },
      inConfigFile: false,
      messages: [/invalid schema: no schema with key or ref/],
    },
    {
      name: 'backreference pattern',
      content: { type: 'string', pattern: '^(a)\\1$' },
      inConfigFile: false,
      messages: [/pattern "\^\(a\)\\\\1\$" is not supported by the linear-time RE2 engine/],
    },
    {
      name: 'every refused pattern listed',
      content: { type: 'object', properties: { a: { type: 'string', pattern: 'x(?=y)' } }, patternProperties: { '(?<=a)b': true } },
      inConfigFile: false,
      messages: [/pattern "x\(\?=y\)" is not supported/, /pattern "\(\?<=a\)b" is not supported/],
    },
    { name: 'RE2-only syntax', content: { type: 'string', pattern: '(?P<n>a)' }, inConfigFile: false, messages: [/is not an ECMA-262 regular expression/] },
  ])('$name', ({ name, content, inConfigFile, messages }) => {
    const file = content === undefined ? join(dir, 'missing.json') : schemaFile(`${name}.json`, content);
    const problems = problemsOf(() => createSchemaCompiler().compile(inputFor(file), CONFIG, PATH));
    expect(problems.map((p) => p.message)).toHaveLength(messages.length);
    for (const [i, message] of messages.entries()) expect(problems[i]?.message).toMatch(message);
    for (const p of problems) expect(p).toMatchObject({ file: inConfigFile ? CONFIG : file, path: PATH });
  });

  it('lists malformed masking pointers next to schema problems', () => {
    const file = schemaFile('bad-pointers.json', { type: 'string', pattern: '(a)\\1' });
    const problems = problemsOf(() => createSchemaCompiler().compile(inputFor(file, { sensitive: ['/ok', '/bad~2'], logFields: ['/x~'] }), CONFIG, PATH));
    expect(problems).toEqual([
      { file: CONFIG, path: '/functions/2/input/sensitive/1', message: 'not a JSON pointer (RFC 6901)' },
      { file: CONFIG, path: '/functions/2/input/logFields/0', message: 'not a JSON pointer (RFC 6901)' },
      expect.objectContaining({ file, path: PATH, message: expect.stringMatching(/not supported by the linear-time RE2/) }),
    ]);
  });
});

describe('compiled validate', () => {
  const order = {
    type: 'object',
    additionalProperties: false,
    required: ['sku', 'quantity'],
    properties: {
      sku: { type: 'string', pattern: '^SKU-[0-9]{4}$' },
      quantity: { type: 'integer', minimum: 1, default: 1 },
      email: { type: 'string', format: 'email' },
      code: { type: 'string', pattern: '^(a+)+$' },
    },
    patternProperties: { '^x-[a-z]+$': { type: 'string', maxLength: 8 } },
  };
  let validate: (value: unknown) => readonly { pointer: string; keyword: string; detail: string }[];
  beforeAll(() => {
    validate = createSchemaCompiler().compile(inputFor(schemaFile('order.json', order)), CONFIG, PATH).validate;
  });

  it.each([
    { name: 'valid', body: { sku: 'SKU-0001', quantity: 2, 'x-trace': 'abc' }, violations: [] },
    { name: 'missing required', body: { sku: 'SKU-0001' }, violations: [{ pointer: '', keyword: 'required' }] },
    { name: 'pattern', body: { sku: 'sku-1', quantity: 1 }, violations: [{ pointer: '/sku', keyword: 'pattern' }] },
    {
      name: 'all errors at once',
      body: { sku: 1, quantity: 0, email: 'nope' },
      violations: [
        { pointer: '/sku', keyword: 'type' },
        { pointer: '/quantity', keyword: 'minimum' },
        { pointer: '/email', keyword: 'format' },
      ],
    },
    {
      name: 'patternProperties value',
      body: { sku: 'SKU-0001', quantity: 1, 'x-trace': 'much-too-long' },
      violations: [{ pointer: '/x-trace', keyword: 'maxLength' }],
    },
    {
      name: 'key outside patternProperties',
      body: { sku: 'SKU-0001', quantity: 1, 'x-Trace': 'a' },
      violations: [{ pointer: '', keyword: 'additionalProperties' }],
    },
    {
      name: 'ReDoS-shaped pattern runs linear',
      body: { sku: 'SKU-0001', quantity: 1, code: `${'a'.repeat(5000)}!` },
      violations: [{ pointer: '/code', keyword: 'pattern' }],
    },
    { name: 'ReDoS-shaped pattern still matches', body: { sku: 'SKU-0001', quantity: 1, code: 'a'.repeat(5000) }, violations: [] },
  ])('$name', ({ body, violations }) => {
    expect(validate(body)).toEqual(violations.map((v) => expect.objectContaining(v)));
  });

  it('never changes the data it validates (no useDefaults/coercion)', () => {
    const body = { sku: 'SKU-0001', quantity: '2' };
    expect(validate(body).map((v) => v.keyword)).toEqual(['type']);
    expect(body).toEqual({ sku: 'SKU-0001', quantity: '2' });
  });
});

describe('one compiler, many schemas', () => {
  it('compiles two files sharing an $id independently', () => {
    const compiler = createSchemaCompiler();
    const id = 'https://example.com/schemas/body.json';
    const a = compiler.compile(inputFor(schemaFile('a.json', { $id: id, type: 'string' })), CONFIG, PATH);
    const b = compiler.compile(inputFor(schemaFile('b.json', { $id: id, type: 'number' })), CONFIG, PATH);
    expect(a.validate('x')).toEqual([]);
    expect(b.validate(1)).toEqual([]);
    expect(b.validate('x').map((v) => v.keyword)).toEqual(['type']);
  });

  it('reports a refused pattern in every schema that uses it', () => {
    const compiler = createSchemaCompiler();
    const schema = { type: 'string', pattern: '(a)\\1' };
    for (const name of ['first.json', 'second.json']) {
      const problems = problemsOf(() => compiler.compile(inputFor(schemaFile(name, schema)), CONFIG, PATH));
      expect(problems.map((p) => p.message)).toEqual([expect.stringMatching(/not supported by the linear-time RE2/)]);
    }
  });

  it('returns a frozen CompiledInput', () => {
    const file = schemaFile('frozen.json', true);
    const compiled = createSchemaCompiler().compile(inputFor(file, { sensitive: ['/p'], logFields: ['/a'] }), CONFIG, PATH);
    expect(compiled).toMatchObject({ contentType: 'application/json', schemaFile: file, sensitive: ['/p'], logFields: ['/a'] });
    expect(Object.isFrozen(compiled) && Object.isFrozen(compiled.sensitive)).toBe(true);
  });
});
