import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { TimestampSchema } from '@bufbuild/protobuf/wkt';
import { describe, expect, it } from 'vitest';
import { readCheckRequest, WireFormatError } from '../../../src/envoy/read-check-request.js';
import { toCallAttempt } from '../../../src/envoy/to-call-attempt.js';
import { CheckRequestSchema } from '../../../src/gen/envoy/service/auth/v3/external_auth_pb.js';
import { type EnvoyShape, envoyCheckBytes, envoyCheckRequest } from '../../helpers/envoy-check.js';

/** The fields callguard reads, from whichever decoder. */
function facts(bytes: Uint8Array, decode: 'lean' | 'fromBinary') {
  const request = decode === 'lean' ? readCheckRequest(bytes) : fromBinary(CheckRequestSchema, bytes);
  const a = request.attributes;
  const peer = (p: typeof a extends undefined ? never : NonNullable<typeof a>['source']) =>
    p === undefined ? undefined : { principal: p.principal, certificate: p.certificate, address: addressOf(p.address?.address) };
  const http = a?.request?.http;
  return {
    attempt: toCallAttempt(request),
    source: peer(a?.source),
    destination: peer(a?.destination),
    contextExtensions: a === undefined ? undefined : { ...a.contextExtensions },
    sni: a?.tlsSession?.sni,
    http:
      http === undefined
        ? undefined
        : {
            id: http.id,
            method: http.method,
            headers: { ...http.headers },
            headerMap: http.headerMap?.headers.map((h) => ({ key: h.key, value: h.value, rawValue: [...h.rawValue] })),
            path: http.path,
            host: http.host,
            body: http.body,
            rawBody: [...http.rawBody],
          },
  };
}

function addressOf(a: { case: string | undefined; value?: unknown } | undefined) {
  if (a?.case !== 'socketAddress') return a?.case;
  const v = a.value as { address: string; portSpecifier: { case: string | undefined; value?: unknown } };
  return { address: v.address, port: v.portSpecifier.case, value: v.portSpecifier.value };
}

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB+zCCAaGgAwIBAgIU\n-----END CERTIFICATE-----\n';
const shapes: { name: string; shape: EnvoyShape }[] = [
  { name: 'defaults', shape: {} },
  { name: 'plaintext', shape: { tls: false } },
  { name: 'mTLS peer with certificate', shape: { peer: { principal: 'spiffe://example.org/ns/a/sa/b', pem: PEM } } },
  {
    name: 'JSON body, bearer, context extension',
    shape: {
      body: '{"a":1}',
      headers: { authorization: 'Bearer x.y.z', 'content-type': 'application/json' },
      contextExtensions: { function: 'orders.create' },
    },
  },
  { name: 'partial body', shape: { body: 'x'.repeat(300), partial: true } },
  { name: 'non-ASCII header values and path', shape: { path: '/ünïcode/😀', headers: { 'x-name': 'Zoë 中文', long: 'é'.repeat(100) } } },
  { name: 'a literal U+FFFD (valid UTF-8), short and long', shape: { headers: { 'x-r': 'a\uFFFDb', 'x-long': 'a\uFFFDb'.repeat(20) } } },
  { name: '__proto__ header key', shape: { headers: { ['__proto__']: 'x', constructor: 'y' } } },
  { name: 'many headers', shape: { headers: Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`x-h-${i}`, 'v'.repeat(i)])) } },
  {
    name: 'repeated headers, joined (encode_raw_headers: false)',
    shape: {
      headers: { authorization: 'Bearer a' },
      headerLines: [
        ['authorization', 'Bearer b'],
        ['x-r', '1'],
        ['x-r', ''],
      ],
    },
  },
  {
    name: 'header_map (encode_raw_headers: true) with repeated keys and raw bytes',
    shape: {
      encodeRawHeaders: true,
      body: '{}',
      headers: { authorization: 'Bearer a' },
      headerLines: [
        ['authorization', 'Bearer b'],
        ['x-raw', new Uint8Array([0xe9, 0x00, 0xff])],
        ['x-empty', ''],
      ],
    },
  },
  { name: 'allowed_headers without pseudo-headers', shape: { allowedHeaders: ['authorization', 'x-request-id'], headers: { authorization: 'Bearer a' } } },
];

describe('readCheckRequest matches fromBinary on the fields callguard reads', () => {
  it.each(shapes)('$name', ({ shape }) => {
    const bytes = envoyCheckBytes(shape);
    expect(facts(bytes, 'lean')).toEqual(facts(bytes, 'fromBinary'));
  });

  it('merges a message sent in two parts, as protobuf does (last scalar wins, maps merge)', () => {
    const first = envoyCheckBytes({ headers: { a: '1', b: '2' }, peer: { principal: 'spiffe://example.org/x', pem: PEM } });
    const second = toBinary(
      CheckRequestSchema,
      create(CheckRequestSchema, {
        attributes: {
          source: {
            principal: 'spiffe://example.org/y',
            address: { address: { case: 'socketAddress', value: { portSpecifier: { case: 'namedPort', value: 'https' } } } },
          },
          request: { http: { path: '/second', headers: { b: '3', c: '4' } } },
          contextExtensions: { function: 'f' },
        },
      }),
    );
    const bytes = new Uint8Array([...first, ...second]);
    const lean = facts(bytes, 'lean');
    expect(lean).toEqual(facts(bytes, 'fromBinary'));
    expect(lean.http?.headers).toMatchObject({ a: '1', b: '3', c: '4' });
    expect(lean.source?.principal).toBe('spiffe://example.org/y');
  });

  it('keeps "__proto__" as an own key, never a prototype', () => {
    const read = readCheckRequest(envoyCheckBytes({ headers: { ['__proto__']: 'polluted' } }));
    const headers = read.attributes?.request?.http?.headers ?? {};
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(headers, '__proto__')?.value).toBe('polluted');
  });

  it('merges a header_map sent in two parts: the entries of both, in order', () => {
    const first = envoyCheckBytes({ encodeRawHeaders: true, headers: { a: '1' } });
    const second = toBinary(
      CheckRequestSchema,
      create(CheckRequestSchema, { attributes: { request: { http: { headerMap: { headers: [{ key: 'a', rawValue: new Uint8Array([0x32]) }] } } } } }),
    );
    const bytes = new Uint8Array([...first, ...second]);
    const lean = facts(bytes, 'lean');
    expect(lean).toEqual(facts(bytes, 'fromBinary'));
    expect(lean.http?.headerMap?.filter((h) => h.key === 'a').map((h) => h.rawValue)).toEqual([[0x31], [0x32]]);
  });

  it('skips fields it does not read (time, size, scheme, protocol, metadata) without building them', () => {
    const request = envoyCheckRequest({});
    request.attributes!.request!.time = create(TimestampSchema, { seconds: 1_800_000_000n, nanos: 5 });
    request.attributes!.request!.http!.size = 12345n;
    request.attributes!.request!.http!.query = 'a=b';
    const bytes = toBinary(CheckRequestSchema, request);
    expect(facts(bytes, 'lean')).toEqual(facts(bytes, 'fromBinary'));
  });
});

describe('readCheckRequest refuses malformed wire data (→ ERR_REQUEST_MALFORMED)', () => {
  const valid = envoyCheckBytes({ body: '{"a":1}', peer: { principal: 'spiffe://example.org/x', pem: PEM } });
  it.each([
    { name: 'truncated in the middle', bytes: valid.subarray(0, Math.floor(valid.length / 2)) },
    { name: 'truncated by one byte', bytes: valid.subarray(0, valid.length - 1) },
    { name: 'attributes with a varint wire type', bytes: new Uint8Array([0x08, 0x01]) },
    { name: 'field number 0', bytes: new Uint8Array([0x02, 0x00]) },
    { name: 'a group', bytes: new Uint8Array([0x0b, 0x0c]) },
    { name: 'varint with 11 bytes', bytes: new Uint8Array([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]) },
    { name: 'length beyond the end', bytes: new Uint8Array([0x0a, 0x7f, 0x00]) },
    { name: 'invalid UTF-8 in a header value', bytes: headerWithBytes([0xc3, 0x28]) },
    { name: 'invalid UTF-8 in a long header value', bytes: headerWithBytes([...Buffer.from('x'.repeat(40)), 0xff, 0x41]) },
    { name: 'invalid UTF-8 in a string field callguard skips (http.scheme)', bytes: httpFieldWithBytes(6, [0xff]) },
    { name: 'invalid UTF-8 in a header_map key', bytes: httpFieldWithBytes(13, [0x0a, 4, 0x0a, 2, 0xc3, 0x28]) },
    { name: 'header_map raw_value with a varint wire type', bytes: httpFieldWithBytes(13, [0x0a, 2, 0x18, 0x01]) },
    { name: 'header_map entry running past its map', bytes: httpFieldWithBytes(13, [0x0a, 9, 0x0a, 1, 0x61]) },
  ])('$name', ({ bytes }) => {
    expect(() => readCheckRequest(bytes)).toThrow(WireFormatError);
  });

  const validRaw = envoyCheckBytes({
    encodeRawHeaders: true,
    body: '{"a":1}',
    headers: { authorization: 'Bearer x.y.z' },
    headerLines: [['authorization', 'Bearer q']],
  });
  it.each([
    { name: 'headers', request: valid },
    { name: 'header_map', request: validRaw },
  ])('agrees with fromBinary wherever both accept a mutated request (seeded fuzz, $name)', ({ request }) => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let bothAccepted = 0;
    for (let i = 0; i < 3000; i++) {
      const bytes = new Uint8Array(request);
      for (let k = 0; k <= random(3); k++) bytes[random(bytes.length)] = random(256);
      let lean: ReturnType<typeof facts> | undefined;
      let reference: ReturnType<typeof facts> | undefined;
      try {
        lean = facts(bytes, 'lean');
      } catch (err) {
        expect(err).toBeInstanceOf(WireFormatError);
      }
      try {
        reference = facts(bytes, 'fromBinary');
      } catch {
        // fromBinary refuses it: callguard refuses it too, or accepts it only by skipping a message it never reads.
      }
      if (lean !== undefined && reference !== undefined) {
        bothAccepted++;
        expect(lean).toEqual(reference);
      }
    }
    expect(bothAccepted).toBeGreaterThan(300);
  });
});

/** attributes.request.http.<field> = <bytes> (a LEN field), hand-encoded. */
function httpFieldWithBytes(field: number, value: number[]): Uint8Array {
  const http = [(field << 3) | 2, value.length, ...value];
  const request = [0x12, http.length, ...http];
  const attributes = [0x22, request.length, ...request];
  return new Uint8Array([0x0a, attributes.length, ...attributes]);
}

/** attributes.request.http.headers = { x: <bytes> }, hand-encoded (create() would refuse invalid UTF-8). */
function headerWithBytes(value: number[]): Uint8Array {
  const entry = [0x0a, 1, 0x78, 0x12, value.length, ...value];
  const http = [0x1a, entry.length, ...entry];
  const request = [0x12, http.length, ...http];
  const attributes = [0x22, request.length, ...request];
  return new Uint8Array([0x0a, attributes.length, ...attributes]);
}
