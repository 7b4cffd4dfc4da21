import { describe, expect, it } from 'vitest';
import { useCallguardFixture } from '../helpers/callguard-fixture.js';
import { type EnvoyShape, summarize } from '../helpers/envoy-check.js';

/**
 * Issue 11, item 5: Envoy's other request shapes. The same calls, sent as Envoy sends them with
 * `encode_raw_headers: true` (header_map) and with `allowed_headers`, get the same decisions as the
 * default shape; a credential header Envoy was not told to forward reads as no credential.
 */
const suite = useCallguardFixture();

const order = (extra: Record<string, unknown> = {}) => JSON.stringify({ orderId: 'ord-1', quantity: 2, card: { number: '4111111111111111' }, ...extra });
/** What the README tells operators to list, for this fixture (JWT only). */
const FORWARDED = ['authorization', 'dpop', 'content-type', 'content-encoding', 'x-request-id'];

const shapes: { name: string; shape: EnvoyShape }[] = [
  { name: 'headers (default)', shape: {} },
  { name: 'header_map (encode_raw_headers)', shape: { encodeRawHeaders: true } },
  { name: 'allowed_headers listing the credential', shape: { allowedHeaders: FORWARDED } },
  { name: 'allowed_headers and encode_raw_headers', shape: { allowedHeaders: FORWARDED, encodeRawHeaders: true } },
];

type Call = { name: string; call: (tokens: Record<string, string>) => EnvoyShape; status: number; code: string | null };
const calls: Call[] = [
  {
    name: 'allowed token',
    call: (t) => ({ headers: { authorization: `Bearer ${t.writer}`, 'content-type': 'application/json' }, body: order() }),
    status: 200,
    code: null,
  },
  { name: 'no token', call: () => ({ headers: { 'content-type': 'application/json' }, body: order() }), status: 401, code: 'ERR_CREDENTIAL_MISSING' },
  {
    name: 'wrong group',
    call: (t) => ({ headers: { authorization: `Bearer ${t.reader}`, 'content-type': 'application/json' }, body: order() }),
    status: 403,
    code: 'ERR_NOT_PERMITTED',
  },
  {
    name: 'body failing the schema',
    call: (t) => ({ headers: { authorization: `Bearer ${t.writer}`, 'content-type': 'application/json' }, body: order({ quantity: 0 }) }),
    status: 400,
    code: 'ERR_BODY_SCHEMA',
  },
  {
    name: 'two Authorization lines',
    call: (t) => ({ headers: { authorization: `Bearer ${t.writer}` }, headerLines: [['authorization', `Bearer ${t.writer}`]] }),
    status: 401,
    code: 'ERR_CREDENTIAL_AMBIGUOUS',
  },
  {
    name: 'body cut at max_request_bytes',
    call: (t) => ({ headers: { authorization: `Bearer ${t.writer}`, 'content-type': 'application/json' }, body: order(), partial: true }),
    status: 413,
    code: 'ERR_BODY_PARTIAL',
  },
  {
    name: 'gzip body',
    call: (t) => ({ headers: { authorization: `Bearer ${t.writer}`, 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: order() }),
    status: 400,
    code: 'ERR_CONTENT_TYPE',
  },
];

async function tokens(): Promise<Record<string, string>> {
  return {
    writer: await suite.issuer.mint({ claims: { sub: 'alice', groups: ['orders-writers'] } }),
    reader: await suite.issuer.mint({ claims: { sub: 'bob', groups: ['orders-readers'] } }),
  };
}

/** Status and code of the answer, and the code of its decision line. */
async function decide(shape: EnvoyShape) {
  const s = summarize(await suite.fx.client.check(shape));
  const decisionId = s.headers['x-callguard-decision-id'];
  const line = suite.fx.log.lines.find((l) => l['decisionId'] === decisionId);
  return { status: s.allow ? 200 : s.status, code: s.allow ? null : s.problem.code, logged: line?.['code'], requestId: line?.['requestId'] };
}

describe.each(shapes)('$name', ({ shape }) => {
  it.each(calls)('$name → $status $code, the same as the default shape', async ({ call, status, code }) => {
    const request = { ...call(await tokens()), ...shape };
    expect(await decide(request)).toEqual({ status, code, logged: code, requestId: 'req-1' });
  });
});

describe('allowed_headers without a credential header', () => {
  it.each([
    { name: 'a bearer token, authorization not listed', allowedHeaders: ['content-type', 'x-request-id'], status: 401, code: 'ERR_CREDENTIAL_MISSING' },
    {
      name: 'raw, authorization not listed',
      allowedHeaders: ['content-type', 'x-request-id'],
      encodeRawHeaders: true,
      status: 401,
      code: 'ERR_CREDENTIAL_MISSING',
    },
    { name: 'nothing listed that the request has', allowedHeaders: ['x-foo'], status: 401, code: 'ERR_CREDENTIAL_MISSING' },
    { name: 'content-type not listed', allowedHeaders: ['authorization', 'x-request-id'], status: 400, code: 'ERR_CONTENT_TYPE' },
  ])('$name → $status $code, in the answer and the decision line', async ({ allowedHeaders, encodeRawHeaders, status, code }) => {
    const t = await tokens();
    const shape: EnvoyShape = {
      allowedHeaders,
      headers: { authorization: `Bearer ${t.writer}`, 'content-type': 'application/json' },
      body: order(),
      ...(encodeRawHeaders ? { encodeRawHeaders } : {}),
    };
    const decided = await decide(shape);
    expect([decided.code, decided.status, decided.logged]).toEqual([code, status, code]);
  });

  it("the x-request-id not listed: the decision line correlates by Envoy's stream id instead", async () => {
    expect((await decide({ allowedHeaders: [], body: order() })).requestId).toBe('1234');
  });
});

describe('upstream hygiene with allowed_headers', () => {
  it.each([
    { name: 'the prefix listed: a spoofed x-callguard-roles is removed', allowed: [...FORWARDED, 'x-callguard-roles'], removed: true },
    { name: 'the prefix not listed: callguard cannot see it (the README says to list it)', allowed: FORWARDED, removed: false },
  ])('$name', async ({ allowed, removed }) => {
    const t = await tokens();
    const s = summarize(
      await suite.fx.client.check({
        allowedHeaders: allowed,
        headers: { authorization: `Bearer ${t.writer}`, 'content-type': 'application/json', 'x-callguard-roles': 'admin' },
        body: order(),
      }),
    );
    expect(s.allow).toBe(true);
    if (!s.allow) return;
    expect(s.remove.includes('x-callguard-roles')).toBe(removed);
    // The credential and identity headers callguard did not set are removed whether or not it saw them.
    expect(s.remove).toEqual(expect.arrayContaining(['authorization', 'dpop', 'x-callguard-spiffe-id']));
  });
});
