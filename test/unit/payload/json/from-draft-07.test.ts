import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../../../src/config/load-config.js';
import { compileInputs } from '../../../../src/decision-core.js';
import { DRAFT_2020_12, fromDraft07 } from '../../../../src/payload/json/from-draft-07.js';
import { SCHEMA_PATH, useSchemaFiles } from '../../../helpers/schema-files.js';

const D7 = 'http://json-schema.org/draft-07/schema#';
const { compile, problemsOf } = useSchemaFiles('callguard-draft07-');

// What the MCP TypeScript SDK 1.32.2 (McpServer + zod) lists as a tool's inputSchema.
const SDK_TOOL = {
  type: 'object',
  properties: { city: { type: 'string', minLength: 1, maxLength: 64 }, days: { type: 'integer', minimum: 1, maximum: 7 } },
  required: ['city'],
  $schema: D7,
};
// zod's draft-7 output for a recursive type: `definitions` and `$ref`s to them.
const TREE = {
  $schema: D7,
  type: 'object',
  properties: { tree: { $ref: '#/definitions/node' } },
  required: ['tree'],
  definitions: {
    node: {
      type: 'object',
      properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#/definitions/node' } } },
      required: ['name'],
      additionalProperties: false,
    },
  },
};

describe('draft-07 schemas whose meaning equals 2020-12 are accepted and validate as draft-07 intends', () => {
  it.each<{ name: string; schema: unknown; valid: unknown[]; invalid: unknown[] }>([
    {
      name: "the MCP SDK's tool schema",
      schema: SDK_TOOL,
      valid: [{ city: 'Oslo' }, { city: 'Oslo', days: 7 }],
      invalid: [{}, { city: '' }, { city: 'Oslo', days: 8 }, { city: 'Oslo', days: 1.5 }, 'Oslo'],
    },
    { name: 'without the empty fragment', schema: { ...SDK_TOOL, $schema: 'http://json-schema.org/draft-07/schema' }, valid: [{ city: 'x' }], invalid: [{}] },
    {
      name: 'definitions, recursion through them',
      schema: TREE,
      valid: [{ tree: { name: 'a', children: [{ name: 'b', children: [] }] } }],
      invalid: [{ tree: { name: 'a', children: [{ nam: 'b' }] } }, { tree: { name: 'a', extra: 1 } }],
    },
    {
      name: 'root $ref beside its definitions and annotations (zod-to-json-schema with a name)',
      schema: { $schema: D7, $ref: '#/definitions/Body', description: 'a body', definitions: { Body: { type: 'string', maxLength: 3 } } },
      valid: ['abc'],
      invalid: ['abcd', 1],
    },
    {
      name: 'if/then/else',
      schema: {
        $schema: D7,
        type: 'object',
        properties: { kind: { type: 'string' }, n: { type: 'integer' } },
        if: { properties: { kind: { const: 'count' } }, required: ['kind'] },
        // biome-ignore lint/suspicious/noThenProperty: a JSON Schema keyword, never awaited
        then: { properties: { n: true }, required: ['n'] },
        else: { not: { properties: { n: true }, required: ['n'] } },
      },
      valid: [{ kind: 'count', n: 1 }, { kind: 'name' }],
      invalid: [{ kind: 'count' }, { kind: 'name', n: 1 }],
    },
    {
      name: 'dependencies (ajv applies its draft-07 meaning)',
      schema: {
        $schema: D7,
        type: 'object',
        properties: { a: true, b: true, c: true },
        dependencies: { a: ['b'], c: { properties: { a: true }, required: ['a'] } },
      },
      valid: [{}, { a: 1, b: 1 }, { a: 1, b: 1, c: 1 }],
      invalid: [{ a: 1 }, { c: 1 }],
    },
    {
      name: 'const, contains, propertyNames, exclusive bounds, $comment, format',
      schema: {
        $schema: D7,
        $comment: 'draft-07 keywords',
        type: 'object',
        propertyNames: { type: 'string', pattern: '^[a-z]+$' },
        properties: {
          v: { const: 2 },
          tags: { type: 'array', contains: { const: 'x' }, uniqueItems: true },
          p: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
          at: { type: 'string', format: 'date-time' },
        },
      },
      valid: [{ v: 2, tags: ['a', 'x'], p: 0.5, at: '2026-12-03T10:00:00Z' }],
      invalid: [{ v: 3 }, { tags: ['a'] }, { tags: ['x', 'x'] }, { p: 1 }, { at: 'today' }, { Bad: 1 }],
    },
    {
      name: '$defs reached by JSON pointer',
      schema: { $schema: D7, type: 'object', properties: { a: { $ref: '#/$defs/short' } }, $defs: { short: { type: 'string', maxLength: 2 } } },
      valid: [{ a: 'ab' }],
      invalid: [{ a: 'abc' }],
    },
    {
      name: '$id without a fragment, $ref to it',
      schema: {
        $schema: D7,
        $id: 'https://example.com/body.json',
        type: 'object',
        properties: { item: { $ref: 'item.json' } },
        definitions: { item: { $id: 'item.json', type: 'integer' } },
      },
      valid: [{ item: 1 }],
      invalid: [{ item: 'x' }],
    },
  ])('$name', ({ schema, valid, invalid }) => {
    const { validate } = compile(schema);
    for (const body of valid) expect(validate(body), JSON.stringify(body)).toEqual([]);
    for (const body of invalid) expect(validate(body), JSON.stringify(body)).not.toEqual([]);
  });

  it('compiles the schema relabelled 2020-12, nothing else changed', () => {
    const { schema, refused } = fromDraft07(TREE);
    expect(refused).toEqual([]);
    expect(schema).toEqual({ ...TREE, $schema: DRAFT_2020_12 });
    expect(TREE.$schema).toBe(D7);
  });
});

const newer = (pointer: string, draft: string) => ({
  pointer,
  message: new RegExp(`^a ${draft} keyword: a draft-07 validator ignores it, 2020-12 applies it`),
});

describe('draft-07 constructs whose meaning differs are refused at load, each with its pointer', () => {
  it.each<{ name: string; schema: Record<string, unknown>; refused: { pointer: string; message: RegExp }[] }>([
    {
      name: 'items as an array (tuple), additionalItems',
      schema: { type: 'array', items: [{ type: 'string' }], additionalItems: false },
      refused: [
        { pointer: '/items', message: /^items as an array is a draft-07 tuple, which 2020-12 writes as prefixItems/ },
        { pointer: '/additionalItems', message: /^additionalItems applies after an array-form items in draft-07/ },
      ],
    },
    {
      name: 'keywords beside $ref',
      schema: { type: 'object', properties: { a: { $ref: '#/definitions/s', maxLength: 2, title: 'kept' } }, definitions: { s: { type: 'string' } } },
      refused: [{ pointer: '/properties/a/$ref', message: /^"maxLength" beside \$ref: draft-07 ignores every keyword beside \$ref .* "allOf"/ }],
    },
    {
      name: '$id beside $ref',
      schema: { $id: 'https://example.com/a.json', $ref: '#/definitions/s', definitions: { s: { type: 'string' } } },
      refused: [{ pointer: '/$ref', message: /^"\$id" beside \$ref/ }],
    },
    {
      name: '$id with a fragment (a draft-07 anchor)',
      schema: { type: 'object', properties: { a: { $ref: '#s' } }, definitions: { s: { $id: '#s', type: 'string' } } },
      refused: [{ pointer: '/definitions/s/$id', message: /^\$id "#s" is a draft-07 plain-name fragment .* \$anchor/ }],
    },
    {
      name: '$id under $defs',
      schema: { type: 'object', properties: { a: { $ref: 'a.json' } }, $defs: { a: { $id: 'a.json', type: 'string' } } },
      refused: [{ pointer: '/$defs/a/$id', message: /^\$id under \$defs: draft-07 does not know \$defs/ }],
    },
    {
      name: 'a nested $schema',
      schema: { type: 'object', properties: { a: { $schema: D7, type: 'string' } } },
      refused: [{ pointer: '/properties/a/$schema', message: /^\$schema inside a draft-07 schema .* only at the root/ }],
    },
    {
      name: '2019-09 and 2020-12 keywords, all listed',
      schema: {
        type: 'object',
        dependentRequired: { a: ['b'] },
        dependentSchemas: { a: true },
        unevaluatedProperties: false,
        properties: {
          t: { type: 'array', prefixItems: [true], unevaluatedItems: false, contains: true, minContains: 1, maxContains: 2 },
          r: { $anchor: 'r', $dynamicAnchor: 'd', $recursiveAnchor: true },
          s: { $dynamicRef: '#d' },
          u: { $recursiveRef: '#' },
        },
        $vocabulary: {},
      },
      refused: [
        newer('/dependentRequired', '2019-09'),
        newer('/dependentSchemas', '2019-09'),
        newer('/unevaluatedProperties', '2019-09'),
        newer('/$vocabulary', '2019-09'),
        newer('/properties/t/prefixItems', '2020-12'),
        newer('/properties/t/unevaluatedItems', '2019-09'),
        newer('/properties/t/minContains', '2019-09'),
        newer('/properties/t/maxContains', '2019-09'),
        newer('/properties/r/$anchor', '2019-09'),
        newer('/properties/r/$dynamicAnchor', '2020-12'),
        newer('/properties/r/$recursiveAnchor', '2019-09'),
        newer('/properties/s/$dynamicRef', '2020-12'),
        newer('/properties/u/$recursiveRef', '2019-09'),
      ],
    },
  ])('$name', ({ schema, refused }) => {
    const problems = problemsOf({ $schema: D7, ...schema });
    expect(problems.map((p) => p.message)).toEqual(
      refused.map((r) => expect.stringMatching(r.message.source.replace(/^\^/, `^schema ${r.pointer.replaceAll('$', '\\$')}: `))),
    );
    for (const p of problems) expect(p).toMatchObject({ path: SCHEMA_PATH, file: expect.stringMatching(/\.json$/) });
  });

  it('lists the refusals of every schema of a config at once, functions and MCP tools alike', () => {
    const dir = mkdtempSync(join(tmpdir(), 'callguard-draft07-config-'));
    try {
      const file = (name: string, schema: unknown): string => {
        writeFileSync(join(dir, name), JSON.stringify(schema));
        return name;
      };
      const allow = [{ spiffeIds: ['spiffe://example.org/caller'] }];
      const config = parseConfig(
        stringify({
          server: { listen: '127.0.0.1:0' },
          identity: { spiffe: { trustDomains: ['example.org'] } },
          functions: [
            { name: 'tuple', allow, input: { schema: file('tuple.json', { $schema: D7, type: 'array', items: [true] }) } },
            { name: 'draft04', allow, input: { schema: file('draft04.json', { $schema: 'http://json-schema.org/draft-04/schema#', type: 'string' }) } },
            { name: 'sdk', allow, input: { schema: file('sdk.json', SDK_TOOL) } },
            {
              name: 'tools',
              match: { method: 'POST', path: '/mcp' },
              allow,
              mcp: {
                tools: [{ name: 't', allow, schema: file('tool.json', { $schema: D7, type: 'object', properties: { a: { $ref: '#', type: 'object' } } }) }],
              },
            },
          ],
        }),
        join(dir, 'callguard.yaml'),
      );
      expect(compileInputs(config).problems.map(({ path, message }) => ({ path, message }))).toEqual([
        { path: '/functions/0/input/schema', message: expect.stringMatching(/^schema \/items: items as an array is a draft-07 tuple/) },
        {
          path: '/functions/1/input/schema',
          message: expect.stringMatching(/^schema \/\$schema: \$schema "http:\/\/json-schema.org\/draft-04\/schema#" is not supported/),
        },
        {
          path: expect.stringMatching(/^\/functions\/3\/mcp\/tools\/0\/schema$/),
          message: expect.stringMatching(/^schema \/properties\/a\/\$ref: "type" beside \$ref/),
        },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('other dialects are refused naming the two supported', () => {
  it.each([
    'http://json-schema.org/draft-04/schema#',
    'http://json-schema.org/draft-06/schema#',
    'https://json-schema.org/draft/2019-09/schema',
    'https://json-schema.org/draft-07/schema#',
    'https://json-schema.org/draft-07/schema',
  ])('%s', ($schema) => {
    expect(problemsOf({ $schema, type: 'string' }).map((p) => p.message)).toEqual([
      `schema /$schema: $schema "${$schema}" is not supported: callguard reads JSON Schema draft 2020-12 ("${DRAFT_2020_12}") and draft-07 ("${D7}") where its keywords mean what they mean in 2020-12`,
    ]);
  });

  it.each([DRAFT_2020_12, `${DRAFT_2020_12}#`])('%s is compiled as it is', ($schema) => {
    const schema = { $schema, type: 'array', prefixItems: [{ type: 'string' }], items: false, minItems: 1 };
    expect(fromDraft07(schema)).toEqual({ schema, refused: [] });
    expect(compile(schema).validate(['a'])).toEqual([]);
  });
});
