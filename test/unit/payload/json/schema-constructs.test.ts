import { describe, expect, it } from 'vitest';
import { useSchemaFiles } from '../../../helpers/schema-files.js';

const schemas = useSchemaFiles('callguard-constructs-');
const compile = schemas.compile;
const problemsOf = (schema: unknown): string[] => schemas.problemsOf(schema).map((p) => p.message);

// The two ajv 8.20 fail-opens of issue 12 (JSON-Schema-Test-Suite draft 2020-12, with a root type added).
const UNEVALUATED_ITEMS_ANYOF = { type: 'array', unevaluatedItems: { type: 'boolean' }, anyOf: [{ items: { type: 'string' } }, true] };
const UNEVALUATED_PROPERTIES_IF = {
  type: 'object',
  if: { properties: { foo: { const: 'then' } }, required: ['foo'] },
  else: { properties: { baz: { type: 'string' } }, required: ['baz'] },
  unevaluatedProperties: false,
};

describe('schema constructs refused at load, each named by its JSON pointer, all at once', () => {
  it.each([
    {
      name: 'unevaluatedItems reading an anyOf branch (ajv fail-open: ["yes", false] allowed)',
      schema: UNEVALUATED_ITEMS_ANYOF,
      messages: [/^schema \/unevaluatedItems: unevaluatedItems is refused here: it reads what the conditional \/anyOf evaluates/],
    },
    {
      name: 'unevaluatedProperties reading an if branch (ajv fail-open: {"foo":"else","baz":"baz"} allowed)',
      schema: UNEVALUATED_PROPERTIES_IF,
      messages: [/^schema \/unevaluatedProperties: .* the conditional \/if evaluates/],
    },
    {
      name: 'unevaluatedProperties reaching a conditional through a $ref',
      schema: { type: 'object', $ref: '#/$defs/a', unevaluatedProperties: false, $defs: { a: { oneOf: [{ type: 'object', properties: { x: true } }, true] } } },
      messages: [/^schema \/unevaluatedProperties: .* the conditional \/\$defs\/a\/oneOf evaluates/],
    },
    {
      name: '$dynamicRef and $dynamicAnchor (dynamicRef.json group 20: endless recursion on every call)',
      schema: { type: 'string', $defs: { a: { $dynamicAnchor: 'x', maxLength: 2 } }, $dynamicRef: '#x' },
      messages: [/^schema \/\$dynamicRef: \$dynamicRef is not supported/, /^schema \/\$defs\/a\/\$dynamicAnchor: \$dynamicAnchor is not supported/],
    },
    {
      name: 'a reference cycle that consumes no data',
      schema: { type: 'object', properties: { a: { $ref: '#/$defs/loop' } }, $defs: { loop: { type: 'integer', allOf: [{ $ref: '#/$defs/loop' }] } } },
      messages: [/^schema \/\$defs\/loop: reference cycle that consumes no data \(\/\$defs\/loop → \/\$defs\/loop\/allOf\/0 → \/\$defs\/loop\)/],
    },
    {
      name: 'inside the draft-07 forms ajv still applies (definitions, dependencies)',
      schema: { type: 'object', definitions: { a: { type: 'string', maxLenght: 1 } }, dependencies: { b: { type: 'object', $dynamicRef: '#x' } } },
      messages: [/^schema \/definitions\/a\/maxLenght: unknown keyword/, /^schema \/dependencies\/b\/\$dynamicRef: \$dynamicRef is not supported/],
    },
    {
      name: 'every problem of a schema: unknown keyword, unknown format, nullable, missing type',
      schema: {
        type: 'object',
        properties: {
          a: { type: 'string', maxLenght: 3 },
          b: { type: 'string', format: 'idn-email' },
          c: { type: 'string', nullable: true },
          d: { properties: {} },
        },
      },
      messages: [
        /^schema \/properties\/a\/maxLenght: unknown keyword: "maxLenght"/,
        /^schema \/properties\/b\/format: unknown format "idn-email"/,
        /^schema \/properties\/c\/nullable: nullable is OpenAPI 3\.0/,
        /^schema \/properties\/d: missing type "object" for keyword "properties" \(strictTypes\)$/,
      ],
    },
  ])('$name', ({ schema, messages }) => {
    const problems = problemsOf(schema);
    expect(problems).toHaveLength(messages.length);
    for (const [i, message] of messages.entries()) expect(problems[i]).toMatch(message);
  });
});

describe('constructs that load and validate', () => {
  it.each([
    {
      name: '$anchor (2020-12 Core §8.2.2)',
      schema: { type: 'object', properties: { n: { $ref: '#count' } }, $defs: { c: { $anchor: 'count', type: 'integer', minimum: 1 } } },
      valid: [{ n: 1 }, {}],
      invalid: [{ n: 0 }, { n: 'x' }],
    },
    {
      name: 'unevaluatedProperties over allOf (no conditional)',
      schema: { type: 'object', allOf: [{ properties: { a: true } }], properties: { b: true }, unevaluatedProperties: false },
      valid: [{ a: 1, b: 2 }],
      invalid: [{ a: 1, c: 3 }],
    },
    {
      name: 'unevaluatedProperties beside a conditional that evaluates nothing',
      schema: {
        type: 'object',
        properties: { a: true, b: true },
        anyOf: [
          { type: 'object', minProperties: 2 },
          { type: 'object', maxProperties: 0 },
        ],
        unevaluatedProperties: false,
      },
      valid: [{ a: 1, b: 1 }, {}],
      invalid: [{ a: 1, c: 1 }, { a: 1 }],
    },
    {
      name: 'a recursive schema that consumes data',
      schema: { type: 'object', properties: { child: { $ref: '#' }, v: { type: 'integer' } } },
      valid: [{ child: { child: { v: 1 } } }],
      invalid: [{ child: { child: { v: 'x' } } }],
    },
    {
      name: 'stricter formats: date-time, duration, uuid, hostname',
      schema: {
        type: 'object',
        properties: {
          t: { type: 'string', format: 'date-time' },
          d: { type: 'string', format: 'duration' },
          u: { type: 'string', format: 'uuid' },
          h: { type: 'string', format: 'hostname' },
        },
      },
      valid: [{ t: '1963-06-19T08:30:06.283185Z', d: 'P1Y2M3DT4H5M6S', u: '2eb8aa08-aa98-11ea-b4aa-73b441d16380', h: 'www.example.com' }],
      invalid: [
        { t: '1990-12-31T15:59:59-24' },
        { t: '1998-12-31T24:00:60Z' },
        { d: 'P1Y2D' },
        { d: 'PT1H2S' },
        { u: 'urn:uuid:2eb8aa08-aa98-11ea-b4aa-73b441d16380' },
        { h: 'example.com.' },
        { h: 'xn--ihqwcrb4cv8a8dqg056pqjye' },
        { h: 'ab--cd.example' },
      ],
    },
  ])('$name', ({ schema, valid, invalid }) => {
    const input = compile(schema);
    for (const v of valid) expect(input.validate(v), JSON.stringify(v)).toEqual([]);
    for (const v of invalid) expect(input.validate(v).length, JSON.stringify(v)).toBeGreaterThan(0);
  });

  it.each([
    { format: 'uri', valid: ['http://[2001:db8::7]/c=GB?objectClass?one', 'urn:oasis:names:tc:xml:4.1.2', 'mailto:a@example.com', 'http://h.test:/p'] },
    {
      format: 'uri',
      invalid: ['//example.com/x', 'http://example.com:80a/', 'http://[::ffff:01.2.3.4]/', 'http://a/b[c]', 'http://a@b@c/', 'http://[fe80::1%25eth0]/'],
    },
    { format: 'uri-reference', valid: ['/abs/path', 'rel/path?q#f', '#frag', '', '//host.test/x', './a:b'] },
    { format: 'uri-reference', invalid: ['a:b/c d', 'x/"y"', 'a:b:c/x y', '1st:seg', '[1]/x', '//a@b@c'] },
  ])('RFC 3986 $format', ({ format, valid = [], invalid = [] }) => {
    const input = compile({ type: 'string', format });
    for (const v of valid) expect(input.validate(v), v).toEqual([]);
    for (const v of invalid) expect(input.validate(v).length, v).toBeGreaterThan(0);
  });

  it('refuses a reference to a missing $anchor', () => {
    expect(problemsOf({ type: 'integer', $ref: '#nowhere' })).toEqual([expect.stringMatching(/can't resolve reference #nowhere/)]);
  });
});
