import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestBody } from '../../../src/call-attempt.js';
import { inspectPayload, MAX_VIOLATIONS } from '../../../src/payload/inspect-payload.js';
import type { PayloadInspector } from '../../../src/payload/payload-inspector.js';
import { createPayloadCompiler } from '../../../src/payload/payload-kinds.js';

const SECRET = 'hunter2-secret';
const JSON_TYPE = 'application/json';
const LIMITS = { maxDepth: 8 };
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const whole = (text: string | undefined): RequestBody => ({ bytes: text === undefined ? undefined : utf8(text), partial: false });

let dir: string;
let login: PayloadInspector;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'callguard-inspect-'));
  const schema = join(dir, 'login.json');
  writeFileSync(
    schema,
    JSON.stringify({
      type: 'object',
      additionalProperties: false,
      required: ['user', 'password'],
      properties: {
        user: { type: 'string', pattern: '^[a-z]+$' },
        password: { type: 'string', minLength: 20 },
        mode: { enum: ['fast', 'safe'] },
        pin: { const: 1234 },
        tags: { type: 'array', items: { type: 'string', format: 'email' }, maxItems: 30 },
      },
    }),
  );
  login = createPayloadCompiler('/etc/callguard.yaml')(
    { contentType: JSON_TYPE, schema, sensitive: ['/password'], logFields: ['/user', '/password', '/mode'] },
    '/functions/0/input',
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('inspectPayload denials', () => {
  it.each([
    { name: 'no input but a body', noInput: true, body: whole('{}'), type: JSON_TYPE, code: 'ERR_CONTENT_TYPE', detail: /takes no request body/ },
    { name: 'partial body', body: { bytes: utf8(`{"password":"${SECRET}`), partial: true }, type: JSON_TYPE, code: 'ERR_BODY_PARTIAL', detail: /exceeds/ },
    { name: 'missing content type', body: whole('{}'), type: undefined, code: 'ERR_CONTENT_TYPE', detail: /must be application\/json/ },
    { name: 'wrong content type', body: whole('{}'), type: 'text/plain', code: 'ERR_CONTENT_TYPE', detail: /must be application\/json/ },
    { name: 'suffix type is not the type', body: whole('{}'), type: 'application/problem+json', code: 'ERR_CONTENT_TYPE', detail: /must be application\/json/ },
    { name: 'non-UTF-8 charset', body: whole('{}'), type: 'application/json; charset=iso-8859-1', code: 'ERR_CONTENT_TYPE', detail: /charset must be utf-8/ },
    { name: 'absent body', body: whole(undefined), type: JSON_TYPE, code: 'ERR_BODY_MISSING', detail: /requires a request body/ },
    { name: 'empty body', body: whole(''), type: JSON_TYPE, code: 'ERR_BODY_MISSING', detail: /requires a request body/ },
    {
      name: 'invalid JSON',
      body: whole(`{"password":"${SECRET}",}`),
      type: JSON_TYPE,
      code: 'ERR_BODY_INVALID_JSON',
      detail: /^expected a string key at offset 29$/,
    },
    { name: 'duplicate key', body: whole(`{"user":"a","user":"${SECRET}"}`), type: JSON_TYPE, code: 'ERR_BODY_INVALID_JSON', detail: /duplicate object key/ },
    { name: 'too deep', body: whole('[[[[[[[[[1]]]]]]]]]'), type: JSON_TYPE, code: 'ERR_BODY_INVALID_JSON', detail: /nesting deeper than 8/ },
  ])('$name → $code', ({ noInput, body, type, code, detail }) => {
    const result = inspectPayload(noInput ? undefined : login, body, type, LIMITS);
    expect(result.ok ? 'ok' : result.code).toBe(code);
    if (result.ok) return;
    expect(result.detail).toMatch(detail);
    expect(result.violations).toEqual([]);
    expect(result.summary.fields).toBeUndefined();
    expect(result.summary.bytes).toBe(body.bytes?.length ?? 0);
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  it.each([
    {
      name: 'missing required and wrong type',
      body: { user: 7 },
      violations: [
        { pointer: '', keyword: 'required' },
        { pointer: '/user', keyword: 'type' },
      ],
    },
    {
      name: 'secret-bearing values break pattern, enum, const, minLength, format',
      body: { user: SECRET, password: SECRET, mode: SECRET, pin: SECRET, tags: [SECRET] },
      violations: [
        { pointer: '/user', keyword: 'pattern' },
        { pointer: '/password', keyword: 'minLength' },
        { pointer: '/mode', keyword: 'enum' },
        { pointer: '/pin', keyword: 'const' },
        { pointer: '/tags/0', keyword: 'format' },
      ],
    },
    { name: 'unknown key', body: { user: 'a', password: 'p'.repeat(20), [SECRET]: 1 }, violations: [{ pointer: '', keyword: 'additionalProperties' }] },
  ])('schema: $name', ({ body, violations }) => {
    const result = inspectPayload(login, whole(JSON.stringify(body)), JSON_TYPE, LIMITS);
    expect(result.ok ? 'ok' : result.code).toBe('ERR_BODY_SCHEMA');
    if (result.ok) return;
    expect(result.violations).toEqual(violations.map((v) => ({ code: 'ERR_BODY_SCHEMA', detail: expect.any(String), ...v })));
    expect(result.detail).toMatch(new RegExp(`\\(${violations.length} violations?\\)$`));
    // Values never surface; only masked logFields do (user is logged unmasked, so it must not carry the secret here).
    const { fields, ...rest } = result.summary;
    expect(JSON.stringify({ ...result, summary: rest })).not.toContain(SECRET);
    expect(fields?.['/password'] ?? '[masked]').toBe('[masked]');
  });

  it(`caps violations at ${MAX_VIOLATIONS} and says how many there were`, () => {
    const body = { user: 'a', password: 'p'.repeat(20), tags: Array.from({ length: 25 }, () => 'not-an-email') };
    const result = inspectPayload(login, whole(JSON.stringify(body)), JSON_TYPE, LIMITS);
    expect(result.ok ? 'ok' : result.code).toBe('ERR_BODY_SCHEMA');
    if (result.ok) return;
    expect(result.violations).toHaveLength(MAX_VIOLATIONS);
    expect(result.detail).toMatch(/\(25 violations, first 20 listed\)/);
  });
});

describe('inspectPayload allows', () => {
  it.each([
    { name: 'no input, no body', input: 'none', body: whole(undefined), type: undefined, summary: { bytes: 0 } },
    { name: 'no input, empty body', input: 'none', body: whole(''), type: 'text/plain', summary: { contentType: 'text/plain', bytes: 0 } },
    {
      name: 'valid body, sensitive masked',
      input: 'login',
      body: whole(`{"user":"jane","password":"${SECRET}-long-enough"}`),
      type: 'Application/JSON; charset="UTF-8"',
      summary: { contentType: JSON_TYPE, bytes: 55, fields: { '/user': 'jane', '/password': '[masked]' } },
    },
  ])('$name', ({ input, body, type, summary }) => {
    const result = inspectPayload(input === 'login' ? login : undefined, body, type, LIMITS);
    expect(result.ok ? 'ok' : result.code).toBe('ok');
    expect(result.summary).toEqual(summary);
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });
});

describe('inspectPayload: violation pointers under a sensitive field', () => {
  it.each([
    { name: 'key under a sensitive map is not echoed', pointer: '/secrets/hunter2-key', want: '/secrets' },
    { name: 'wildcard sensitive pattern', pointer: '/items/3/token/abc', want: '/items/3/token' },
    { name: 'elsewhere unchanged', pointer: '/name', want: '/name' },
  ])('$name', ({ pointer, want }) => {
    // The JSON kind's own steps, with a schema result chosen by the row: violations come from any kind.
    const input: PayloadInspector = {
      ...login,
      validate: () => [{ pointer, keyword: 'type', detail: 'must be string' }],
      sensitive: ['/secrets', '/items/*/token'],
    };
    const result = inspectPayload(input, { bytes: new TextEncoder().encode('{}'), partial: false }, 'application/json', { maxDepth: 8 });
    expect(result.ok ? undefined : result.code).toBe('ERR_BODY_SCHEMA');
    if (!result.ok) expect(result.violations[0]?.pointer).toBe(want);
  });
});
