import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InputConfig } from '../../../../src/config/types.js';
import { ConfigError } from '../../../../src/errors.js';
import { inspectPayload } from '../../../../src/payload/inspect-payload.js';
import type { PayloadInspector } from '../../../../src/payload/payload-inspector.js';
import { createPayloadCompiler } from '../../../../src/payload/payload-kinds.js';
import { buildDescriptorSet, concat, grpcFrame, inventoryMessages, RESERVE_METHOD, RESERVE_SCHEMA } from '../../../helpers/grpc-example.js';

const CONFIG = '/etc/callguard.yaml';
const GRPC = 'application/grpc';
const LIMITS = { maxDepth: 16 };
const CARD = { number: '4111111111111111', expiry: '12/29' };
let dir: string;
let descriptorSet: string;
let messages: ReturnType<typeof inventoryMessages>;
let reserve: PayloadInspector;

const grpcInput = (grpc: Partial<NonNullable<InputConfig['grpc']>> = {}, extra: Partial<InputConfig> = {}): InputConfig => ({
  contentType: GRPC,
  schema: RESERVE_SCHEMA,
  sensitive: ['/card/number'],
  logFields: ['/sku', '/quantity', '/card/number'],
  grpc: { descriptorSet, method: RESERVE_METHOD, unknownFields: 'deny', maxMessages: 1, ...grpc },
  ...extra,
});
const compile = (input: InputConfig): PayloadInspector => createPayloadCompiler(CONFIG)(input, '/functions/4/input');
function problemsOf(input: InputConfig): { path: string; message: string }[] {
  try {
    compile(input);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(({ path, message }) => ({ path, message }));
    throw err;
  }
  throw new Error('expected a ConfigError');
}
const body = (bytes: Uint8Array) => ({ bytes, partial: false });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'callguard-grpc-kind-'));
  descriptorSet = buildDescriptorSet(dir);
  messages = inventoryMessages(descriptorSet);
  reserve = compile(grpcInput());
  // A bidirectional method, a recursive message, and a file that is not a descriptor set.
  const protoDir = join(dir, 'proto');
  mkdirSync(protoDir);
  writeFileSync(
    join(protoDir, 'chat.proto'),
    'syntax = "proto3";\npackage chat.v1;\nimport "google/protobuf/timestamp.proto";\nmessage Line { string text = 1; google.protobuf.Timestamp at = 2; }\nservice Chat { rpc Talk(stream Line) returns (stream Line); }\nmessage Node { Node child = 1; }\nservice Trees { rpc Put(Node) returns (Node); }\n',
  );
  buildDescriptorSet(dir, protoDir, 'chat.binpb');
  writeFileSync(join(dir, 'not-a-set.binpb'), 'hello');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gRPC input blocks refused at load, every problem at once', () => {
  it.each([
    {
      name: 'descriptor set unreadable',
      input: () => grpcInput({ descriptorSet: join(dir, 'missing.binpb') }),
      want: [{ path: '/functions/4/input/grpc/descriptorSet', message: /cannot read descriptor set .*missing\.binpb: ENOENT/ }],
    },
    {
      name: 'not a descriptor set',
      input: () => grpcInput({ descriptorSet: join(dir, 'not-a-set.binpb') }),
      want: [{ path: '/functions/4/input/grpc', message: /not a usable protobuf descriptor set/ }],
    },
    {
      name: 'method not fully qualified',
      input: () => grpcInput({ method: 'Reserve' }),
      want: [{ path: '/functions/4/input/grpc/method', message: /"Reserve" is not a fully qualified method/ }],
    },
    {
      name: 'no such service',
      input: () => grpcInput({ method: 'example.inventory.v1.Stock/Reserve' }),
      want: [{ path: '/functions/4/input/grpc/method', message: /no service example\.inventory\.v1\.Stock .*services: example\.inventory\.v1\.Inventory/ }],
    },
    {
      name: 'no such method',
      input: () => grpcInput({ method: 'example.inventory.v1.Inventory.Release' }),
      want: [{ path: '/functions/4/input/grpc/method', message: /has no method Release \(methods: Reserve, ReserveBatch\)/ }],
    },
    {
      name: 'bidirectional streaming',
      input: () => grpcInput({ descriptorSet: join(dir, 'chat.binpb'), method: 'chat.v1.Chat/Talk' }),
      want: [{ path: '/functions/4/input/grpc/method', message: /bidirectional streaming/ }],
    },
    {
      name: 'maxMessages on a unary method',
      input: () => grpcInput({ maxMessages: 3 }),
      want: [{ path: '/functions/4/input/grpc/maxMessages', message: /is unary: its request is exactly one message/ }],
    },
    {
      name: 'no grpc block',
      input: () => ({ ...grpcInput(), grpc: undefined }) as unknown as InputConfig,
      want: [{ path: '/functions/4/input', message: /requires a grpc block/ }],
    },
    {
      name: 'grpc block on a JSON input',
      input: () => grpcInput({}, { contentType: 'application/json' }),
      want: [{ path: '/functions/4/input/grpc', message: /only for contentType application\/grpc/ }],
    },
    {
      name: 'schema and descriptor problems together',
      input: () => grpcInput({ descriptorSet: join(dir, 'missing.binpb') }, { schema: join(dir, 'no-schema.json'), logFields: ['/x~'] }),
      want: [
        { path: '/functions/4/input/grpc/descriptorSet', message: /cannot read descriptor set/ },
        { path: '/functions/4/input/logFields/0', message: /not a JSON pointer/ },
        { path: '/functions/4/input/schema', message: /cannot read schema file/ },
      ],
    },
  ])('$name', ({ input, want }) => {
    expect(problemsOf(input())).toEqual(want.map((w) => ({ path: w.path, message: expect.stringMatching(w.message) })));
  });
});

describe('gRPC requests through inspectPayload', () => {
  const valid = { sku: 'AB-1', quantity: 2, card: CARD, tags: ['rush'] };
  it('allows a valid message; logs its proto3 JSON form with sensitive fields masked', () => {
    const result = inspectPayload(reserve, body(grpcFrame(messages.reserve(valid))), GRPC, LIMITS);
    expect(result).toEqual({
      ok: true,
      summary: { contentType: GRPC, bytes: expect.any(Number), fields: { '/sku': 'AB-1', '/quantity': 2, '/card/number': '[masked]' } },
    });
  });

  it.each([
    {
      name: 'schema violation (quantity absent on the wire is 0 to the function)',
      bytes: () => grpcFrame(messages.reserve({ ...valid, quantity: 0 })),
      code: 'ERR_BODY_SCHEMA',
      detail: /1 violation/,
      pointer: '/quantity',
    },
    {
      name: 'schema violation in a nested message',
      bytes: () => grpcFrame(messages.reserve({ ...valid, card: { number: '41', expiry: '12/29' } })),
      code: 'ERR_BODY_SCHEMA',
      detail: /1 violation/,
      pointer: '/card/number',
    },
    {
      name: 'message field absent (explicit presence)',
      bytes: () => grpcFrame(messages.reserve({ sku: 'AB-1', quantity: 2 })),
      code: 'ERR_BODY_SCHEMA',
      detail: /violation/,
      pointer: '',
    },
    {
      name: 'unknown field',
      bytes: () => grpcFrame(concat(messages.reserve(valid), Uint8Array.of(0xf8, 0x06, 0x01))),
      code: 'ERR_BODY_GRPC_MESSAGE',
      detail: /unknown field 111 in example\.inventory\.v1\.ReserveRequest/,
    },
    {
      name: 'unknown field in a nested message',
      bytes: () => grpcFrame(concat(messages.reserve({ ...valid, card: undefined }), cardWithUnknownField())),
      code: 'ERR_BODY_GRPC_MESSAGE',
      detail: /unknown field 9 in example\.inventory\.v1\.Card/,
    },
    {
      name: 'string field not UTF-8',
      bytes: () => grpcFrame(Uint8Array.of(0x0a, 0x02, 0xff, 0xfe)),
      code: 'ERR_BODY_GRPC_MESSAGE',
      detail: /not a valid example\.inventory\.v1\.ReserveRequest: a string field is not valid UTF-8$/,
    },
    {
      name: 'message cut short inside',
      bytes: () => grpcFrame(Uint8Array.of(0x0a, 0x05, 0x41)),
      code: 'ERR_BODY_GRPC_MESSAGE',
      detail: /: a field runs past the end of the message$/,
    },
    {
      name: 'two messages to a unary method',
      bytes: () => concat(grpcFrame(messages.reserve(valid)), grpcFrame(messages.reserve(valid))),
      code: 'ERR_BODY_GRPC_FRAME',
      detail: /more than one message/,
    },
    { name: 'compressed message', bytes: () => grpcFrame(messages.reserve(valid), 1), code: 'ERR_BODY_GRPC_FRAME', detail: /compressed/ },
    { name: 'length mismatch', bytes: () => grpcFrame(messages.reserve(valid), 0, 500), code: 'ERR_BODY_GRPC_FRAME', detail: /declares 500 bytes/ },
  ])('$name → $code', ({ bytes, code, detail, pointer }) => {
    const result = inspectPayload(reserve, body(bytes()), GRPC, LIMITS);
    expect(result.ok ? 'allowed' : result.code).toBe(code);
    if (result.ok) return;
    expect(result.detail).toMatch(detail);
    if (pointer !== undefined) expect(result.violations.map((v) => v.pointer)).toContain(pointer);
    expect(JSON.stringify(result)).not.toContain('4111');
  });

  it.each([
    { name: 'JSON', type: 'application/json', code: 'ERR_CONTENT_TYPE' },
    { name: 'gRPC with JSON messages', type: 'application/grpc+json', code: 'ERR_CONTENT_TYPE' },
    { name: 'no content type', type: undefined, code: 'ERR_CONTENT_TYPE' },
  ])('content type $name → $code', ({ type, code }) => {
    const result = inspectPayload(reserve, body(grpcFrame(messages.reserve(valid))), type, LIMITS);
    expect(result.ok ? 'allowed' : result.code).toBe(code);
  });

  it('accepts application/grpc+proto', () => {
    expect(inspectPayload(reserve, body(grpcFrame(messages.reserve(valid))), 'application/grpc+proto', LIMITS).ok).toBe(true);
  });

  it('unknownFields: allow lets an unknown field through (invisible to the schema)', () => {
    const lenient = compile(grpcInput({ unknownFields: 'allow' }));
    const result = inspectPayload(lenient, body(grpcFrame(concat(messages.reserve(valid), Uint8Array.of(0xf8, 0x06, 0x01)))), GRPC, LIMITS);
    expect(result.ok).toBe(true);
  });

  it('client streaming: the JSON form is the array of messages, up to maxMessages', () => {
    const batch = compile(
      grpcInput({ method: 'example.inventory.v1.Inventory/ReserveBatch', maxMessages: 2 }, { schema: arraySchema(), logFields: ['/*/sku'] }),
    );
    const two = concat(grpcFrame(messages.reserve(valid)), grpcFrame(messages.reserve({ ...valid, sku: 'CD-2' })));
    expect(inspectPayload(batch, body(two), GRPC, LIMITS)).toMatchObject({ ok: true, summary: { fields: { '/0/sku': 'AB-1', '/1/sku': 'CD-2' } } });
    const bad = concat(grpcFrame(messages.reserve(valid)), grpcFrame(messages.reserve({ ...valid, quantity: 0 })));
    expect(inspectPayload(batch, body(bad), GRPC, LIMITS)).toMatchObject({ ok: false, code: 'ERR_BODY_SCHEMA', violations: [{ pointer: '/1/quantity' }] });
    const three = concat(two, grpcFrame(messages.reserve(valid)));
    expect(inspectPayload(batch, body(three), GRPC, LIMITS)).toMatchObject({ ok: false, code: 'ERR_BODY_GRPC_FRAME', detail: 'more than 2 messages' });
  });

  it('payload.maxDepth bounds message nesting (protobuf-es recursionLimit)', () => {
    const tree = compile(
      grpcInput({ descriptorSet: join(dir, 'chat.binpb'), method: 'chat.v1.Trees/Put' }, { schema: trueSchema(), sensitive: [], logFields: [] }),
    );
    // Node { Node child = 1; } nested n deep: each level wraps the previous one.
    const nested = (n: number): Uint8Array => {
      let m: Uint8Array = new Uint8Array(0);
      for (let i = 0; i < n; i++) m = concat(Uint8Array.of(0x0a, m.length), m);
      return m;
    };
    expect(inspectPayload(tree, body(grpcFrame(nested(10))), GRPC, LIMITS).ok).toBe(true);
    expect(inspectPayload(tree, body(grpcFrame(nested(40))), GRPC, LIMITS)).toMatchObject({
      ok: false,
      code: 'ERR_BODY_GRPC_MESSAGE',
      detail: 'the message is not a valid chat.v1.Node: messages nest deeper than payload.maxDepth',
    });
  });
});

function arraySchema(): string {
  const file = join(dir, 'batch.json');
  writeFileSync(file, JSON.stringify({ type: 'array', items: JSON.parse(readFileSync(RESERVE_SCHEMA, 'utf8')) }));
  return file;
}

/** ReserveRequest.card (field 3) holding a Card with the fields it has plus field 9 (varint 1). */
function cardWithUnknownField(): Uint8Array {
  const utf8 = (text: string) => new TextEncoder().encode(text);
  const card = concat(Uint8Array.of(0x0a, 16), utf8(CARD.number), Uint8Array.of(0x12, 5), utf8(CARD.expiry), Uint8Array.of(0x48, 0x01));
  return concat(Uint8Array.of(0x1a, card.length), card);
}

function trueSchema(): string {
  const file = join(dir, 'true.json');
  writeFileSync(file, 'true');
  return file;
}
