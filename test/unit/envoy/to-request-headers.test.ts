import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { toCallAttempt } from '../../../src/envoy/to-call-attempt.js';
import { toRequestHeaders } from '../../../src/envoy/to-request-headers.js';
import { CheckRequestSchema } from '../../../src/gen/envoy/service/auth/v3/external_auth_pb.js';
import { type EnvoyShape, envoyCheckRequest } from '../../helpers/envoy-check.js';

const bytes = (...b: number[]) => new Uint8Array(b);

/** attributes.request.http with only these header_map entries (and, optionally, `headers`). */
function withHeaderMap(entries: { key: string; value?: string; rawValue?: Uint8Array }[], headers: Record<string, string> = {}) {
  return create(CheckRequestSchema, {
    attributes: {
      destination: { principal: 'envoy' },
      request: { http: { method: 'GET', path: '/orders/1', host: 'h', headers, headerMap: { headers: entries } } },
    },
  });
}

function attemptOf(request: ReturnType<typeof envoyCheckRequest>) {
  const result = toCallAttempt(request);
  if (!result.ok) throw new Error(`${result.code}: ${result.internal}`);
  return result.attempt;
}

describe('toRequestHeaders: the same request reads the same from `headers` and `header_map`', () => {
  it.each<{ name: string; shape: EnvoyShape; expected: Record<string, string> }>([
    {
      name: 'bearer token and JSON body',
      shape: { headers: { authorization: 'Bearer a.b.c', 'content-type': 'application/json' }, body: '{}' },
      expected: { authorization: 'Bearer a.b.c', 'x-envoy-auth-partial-body': 'false' },
    },
    {
      name: 'two Authorization lines: joined, so ambiguous later, never "first wins"',
      shape: { headers: { authorization: 'Bearer a' }, headerLines: [['authorization', 'Bearer b']] },
      expected: { authorization: 'Bearer a,Bearer b' },
    },
    {
      name: 'an empty line before a credential',
      shape: { headers: { authorization: '' }, headerLines: [['authorization', 'Bearer b']] },
      expected: { authorization: ',Bearer b' },
    },
    {
      name: 'three x-forwarded-for lines, in order',
      shape: {
        headers: { 'x-forwarded-for': '1' },
        headerLines: [
          ['x-forwarded-for', '2'],
          ['x-forwarded-for', '3'],
        ],
      },
      expected: { 'x-forwarded-for': '1,2,3' },
    },
    {
      name: 'UTF-8 text, a tab and an empty value',
      shape: { headers: { 'x-name': 'Zoë 中文', 'x-tab': 'a\tb', 'x-empty': '' } },
      expected: { 'x-name': 'Zoë 中文', 'x-tab': 'a\tb', 'x-empty': '' },
    },
    { name: '"__proto__" stays an own key', shape: { headers: { ['__proto__']: 'x' } }, expected: {} },
  ])('$name', ({ shape, expected }) => {
    const joined = attemptOf(envoyCheckRequest(shape));
    const raw = attemptOf(envoyCheckRequest({ ...shape, encodeRawHeaders: true }));
    expect(raw).toEqual(joined);
    expect(raw.headers).toMatchObject(expected);
    expect(Object.getPrototypeOf(raw.headers)).toBe(Object.prototype);
    expect(Object.keys(raw.headers)).toEqual(Object.keys(joined.headers));
  });

  it('`headers` alone is used as it is (no copy on the default path)', () => {
    const request = envoyCheckRequest({ headers: { authorization: 'Bearer a' } });
    const http = request.attributes!.request!.http!;
    const read = toRequestHeaders(http);
    expect(read.ok && read.headers).toBe(http.headers);
  });

  it.each<{ name: string; shape: EnvoyShape }>([
    { name: 'headers', shape: {} },
    { name: 'header_map', shape: { encodeRawHeaders: true } },
  ])('allowed_headers ($name): no pseudo-headers, method, path and host from attributes.request.http', ({ shape }) => {
    const attempt = attemptOf(
      envoyCheckRequest({
        ...shape,
        method: 'GET',
        path: '/orders/7',
        host: 'fn.internal',
        allowedHeaders: ['x-request-id'],
        headers: { authorization: 'Bearer a' },
      }),
    );
    expect(attempt.headers).toEqual({ 'x-request-id': 'req-1' });
    expect([attempt.method, attempt.path, attempt.host, attempt.requestId]).toEqual(['GET', '/orders/7', 'fn.internal', 'req-1']);
  });

  it.each([
    {
      name: 'both shapes, equal',
      request: withHeaderMap(
        [
          { key: 'a', rawValue: bytes(0x31) },
          { key: 'a', rawValue: bytes(0x32) },
        ],
        { a: '1,2' },
      ),
      headers: { a: '1,2' },
    },
    { name: '`value` instead of raw_value (not what Envoy sets, same meaning)', request: withHeaderMap([{ key: 'a', value: 'v' }]), headers: { a: 'v' } },
    { name: 'an empty header_map: `headers` is used', request: withHeaderMap([], { a: '1' }), headers: { a: '1' } },
  ])('$name', ({ request, headers }) => {
    expect(attemptOf(request).headers).toEqual(headers);
  });

  it.each([
    { name: '"true" then "false"', values: ['true', 'false'] },
    { name: '"false" twice', values: ['false', 'false'] },
    { name: 'something else', values: ['yes'] },
  ])('a partial-body flag Envoy would not write ($name) reads as partial', ({ values }) => {
    const request = withHeaderMap(values.map((v) => ({ key: 'x-envoy-auth-partial-body', rawValue: new TextEncoder().encode(v) })));
    expect(attemptOf(request).body.partial).toBe(true);
  });
});

describe('toRequestHeaders refuses what it would have to guess', () => {
  it.each([
    { name: 'a latin-1 byte (not UTF-8)', entry: { key: 'x-raw', rawValue: bytes(0x63, 0x61, 0x66, 0xe9) }, problem: 'is not UTF-8' },
    { name: 'an invalid UTF-8 sequence', entry: { key: 'x-raw', rawValue: bytes(0xc3, 0x28) }, problem: 'is not UTF-8' },
    { name: 'a UTF-16 surrogate encoded as UTF-8', entry: { key: 'x-raw', rawValue: bytes(0xed, 0xa0, 0x80) }, problem: 'is not UTF-8' },
    { name: 'an overlong encoding of "/"', entry: { key: 'x-raw', rawValue: bytes(0xc0, 0xaf) }, problem: 'is not UTF-8' },
    { name: 'NUL', entry: { key: 'x-raw', rawValue: bytes(0x61, 0x00) }, problem: 'holds a control character' },
    {
      name: 'CR LF (a smuggled header line)',
      entry: { key: 'x-raw', rawValue: new TextEncoder().encode('a\r\nx-callguard-subject: admin') },
      problem: 'holds a control character',
    },
    { name: 'ESC', entry: { key: 'x-raw', rawValue: bytes(0x1b, 0x5b) }, problem: 'holds a control character' },
    { name: 'DEL', entry: { key: 'x-raw', rawValue: bytes(0x7f) }, problem: 'holds a control character' },
    { name: 'a control character in `value`', entry: { key: 'x-raw', value: 'a\u0001' }, problem: 'holds a control character' },
  ])('$name → ERR_HEADER_INVALID', ({ entry, problem }) => {
    const result = toCallAttempt(withHeaderMap([{ key: 'authorization', rawValue: new TextEncoder().encode('Bearer secret') }, entry]));
    expect(result.ok ? undefined : result.code).toBe('ERR_HEADER_INVALID');
    expect(result.ok ? undefined : result.internal).toBe(`header "x-raw" ${problem}`);
    // The call without its headers, for the decision line.
    expect(result.ok ? undefined : [result.attempt?.method, result.attempt?.path, result.attempt?.headers]).toEqual(['GET', '/orders/1', {}]);
  });

  it.each([
    {
      name: 'both value and raw_value set',
      request: withHeaderMap([{ key: 'a', value: 'v', rawValue: bytes(0x76) }]),
      internal: 'header_map entry "a" sets both value and raw_value',
    },
    {
      name: 'an upper-case name',
      request: withHeaderMap([{ key: 'Authorization', rawValue: bytes(0x61) }]),
      internal: 'header_map holds a name that is not a lower-case header name',
    },
    {
      name: 'an empty name',
      request: withHeaderMap([{ key: '', rawValue: bytes(0x61) }]),
      internal: 'header_map holds a name that is not a lower-case header name',
    },
    {
      name: 'a name with a space',
      request: withHeaderMap([{ key: 'x a', rawValue: bytes(0x61) }]),
      internal: 'header_map holds a name that is not a lower-case header name',
    },
    {
      name: 'both shapes, another value',
      request: withHeaderMap([{ key: 'authorization', rawValue: new TextEncoder().encode('Bearer b') }], { authorization: 'Bearer a' }),
      internal: 'headers and header_map are both set and disagree on "authorization"',
    },
    {
      name: 'both shapes, a header only in one',
      request: withHeaderMap([{ key: 'a', rawValue: bytes(0x31) }], { a: '1', authorization: 'Bearer a' }),
      internal: 'headers and header_map are both set and disagree on which headers there are',
    },
    {
      name: 'both shapes, repeated in one, single in the other',
      request: withHeaderMap(
        [
          { key: 'a', rawValue: bytes(0x31) },
          { key: 'a', rawValue: bytes(0x32) },
        ],
        { a: '2' },
      ),
      internal: 'headers and header_map are both set and disagree on "a"',
    },
  ])('$name → ERR_REQUEST_MALFORMED', ({ request, internal }) => {
    const result = toCallAttempt(request);
    expect(result.ok ? undefined : result.code).toBe('ERR_REQUEST_MALFORMED');
    expect(result.ok ? undefined : result.internal).toBe(internal);
    expect(result.ok ? undefined : result.attempt).toBeUndefined();
  });
});
