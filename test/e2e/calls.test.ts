import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithEnvoy } from '../helpers/stack-envoy.js';
import type { TestStack } from '../helpers/stack-harness.js';
import { startTestStack } from '../helpers/stack-harness.js';
import { decisionsFor, readDecisions, send } from '../helpers/stack-http.js';

const ORDER = { sku: 'ABC-123', quantity: 2, card: { number: '4111111111111111', expiry: '12/30' } };
const ISSUER = 'https://issuer.example.test';

describeWithEnvoy('e2e: calls through Envoy and callguard', () => {
  let stack: TestStack;
  let writerToken: string;
  let readerToken: string;

  beforeAll(async () => {
    stack = await startTestStack();
    writerToken = await stack.issuer.mint({ subject: 'alice', groups: ['orders-writers'], jti: 'jti-alice-1' });
    readerToken = await stack.issuer.mint({ subject: 'bob', groups: ['orders-readers'] });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('an allowed call reaches the function over TLS with identity headers and no Authorization', async () => {
    const before = (await stack.fn.settled()).length;
    const res = await send(stack, {
      method: 'POST',
      path: '/orders',
      token: writerToken,
      // A caller trying to speak for callguard: must be replaced, never forwarded.
      headers: { 'x-callguard-subject': 'mallory', 'x-callguard-groups': 'admins' },
      body: JSON.stringify(ORDER),
    });
    expect(res.status).toBe(200);
    const seen = res.json<{ function: string; identity: Record<string, string>; authorizationHeaderPresent: boolean }>();
    expect(seen.function).toBe('/orders');
    expect(seen.authorizationHeaderPresent).toBe(false);
    expect(seen.identity).toMatchObject({
      'x-callguard-subject': 'alice',
      'x-callguard-issuer': ISSUER,
      'x-callguard-groups': 'orders-writers',
      'x-callguard-function': 'orders.create',
    });
    expect(seen.identity['x-callguard-decision-id']).toMatch(/\S/);

    const [line, ...more] = await decisionsFor(stack, res.requestId);
    expect(more).toHaveLength(0);
    expect(line).toMatchObject({
      decisionId: seen.identity['x-callguard-decision-id'],
      function: 'orders.create',
      outcome: 'allow',
      status: 200,
      principal: { issuer: ISSUER, subject: 'alice', groups: ['orders-writers'], jti: 'jti-alice-1' },
    });
    expect((await stack.fn.settled()).length).toBe(before + 1);
  });

  it.each([
    { name: 'missing token', token: undefined, code: 'ERR_CREDENTIAL_MISSING', status: 401 },
    { name: 'invalid token', token: 'not.a.jwt', code: 'ERR_TOKEN_MALFORMED', status: 401 },
    { name: 'wrong group', token: 'reader', code: 'ERR_NOT_PERMITTED', status: 403 },
  ])('$name → $status, one decision line, function not called', async ({ token, code, status }) => {
    const before = (await stack.fn.settled()).length;
    const res = await send(stack, {
      method: 'POST',
      path: '/orders',
      ...(token === undefined ? {} : { token: token === 'reader' ? readerToken : token }),
      body: JSON.stringify(ORDER),
    });
    expect(res.json()['code']).toBe(code);
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toBe('application/problem+json');
    if (status === 401) expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    const lines = await decisionsFor(stack, res.requestId);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ function: 'orders.create', outcome: 'deny', status, code });
    expect(lines[0]?.decisionId).toBe(res.headers['x-callguard-decision-id']);
    if (token === 'reader') expect(lines[0]?.principal).toMatchObject({ issuer: ISSUER, subject: 'bob' });
    expect((await stack.fn.settled()).length).toBe(before);
  });

  it('nothing replayable goes upstream: a token in the query and method-override headers are removed (issue 10, item 8)', async () => {
    const res = await send(stack, {
      path: `/orders/7?page=2&access_token=${readerToken}&sort=asc&page=3`,
      token: readerToken,
      headers: { 'x-http-method-override': 'DELETE', 'x-http-method': 'DELETE', 'x-method-override': 'DELETE' },
    });
    expect(res.status).toBe(200);
    const seen = res.json<{ function: string; method: string; methodOverrideHeaders: string[] }>();
    expect(seen.function).not.toContain('access_token');
    expect(seen.function).not.toContain(readerToken.slice(0, 20));
    // Envoy 1.40 rebuilds the query when it removes a parameter: the others arrive grouped by name, the
    // values of a repeated one in their order (only calls that carried a credential in the URL see this).
    expect(seen.function).toBe('/orders/7?page=2&page=3&sort=asc');
    expect(seen.method).toBe('GET');
    expect(seen.methodOverrideHeaders).toEqual([]);
  });

  it('a percent-encoded access_token name, which Envoy could not remove, is refused (400)', async () => {
    const before = (await stack.fn.settled()).length;
    const res = await send(stack, { path: `/orders/7?access%5Ftoken=${readerToken}`, token: readerToken });
    expect([res.status, res.json()['code']]).toEqual([400, 'ERR_QUERY_ENCODED_NAME']);
    expect((await stack.fn.settled()).length).toBe(before);
  });

  it('a schema violation → 400 problem+json naming the pointer, without echoing the value', async () => {
    const res = await send(stack, {
      method: 'POST',
      path: '/orders',
      token: writerToken,
      body: JSON.stringify({ ...ORDER, quantity: 0, card: { number: '1234-secret', expiry: '12/30' } }),
    });
    expect(res.json()['code']).toBe('ERR_BODY_SCHEMA');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.text).toContain('/quantity');
    expect(res.text).not.toContain('1234-secret');
    expect(await decisionsFor(stack, res.requestId)).toMatchObject([{ outcome: 'deny', code: 'ERR_BODY_SCHEMA' }]);
  });

  it('an unknown route is still checked and denied with 404', async () => {
    const res = await send(stack, { method: 'GET', path: '/admin/users', token: writerToken });
    expect(res.json()['code']).toBe('ERR_FUNCTION_UNKNOWN');
    expect(res.status).toBe(404);
    expect(await decisionsFor(stack, res.requestId)).toMatchObject([{ function: null, outcome: 'deny', status: 404 }]);
  });

  it('a body over 64 KiB → 413 from Envoy; callguard is never asked', async () => {
    const before = (await stack.fn.settled()).length;
    const big = JSON.stringify({ ...ORDER, note: 'x'.repeat(70 * 1024) });
    const res = await send(stack, { method: 'POST', path: '/orders', token: writerToken, body: big });
    expect(res.status).toBe(413);
    expect(res.headers['x-callguard-decision-id']).toBeUndefined();
    // A later decided call is logged; the 413 before it left no line at all.
    const marker = await send(stack, { method: 'GET', path: '/orders/1' });
    expect(await decisionsFor(stack, marker.requestId)).toHaveLength(1);
    expect((await readDecisions(stack)).filter((d) => d.requestId === res.requestId)).toHaveLength(0);
    expect((await stack.fn.settled()).length).toBe(before);
  });

  it('every decided request left exactly one decision line', async () => {
    // Two decided calls of its own (so the check never runs on an empty log), the last one a barrier.
    await send(stack, { path: '/orders/1', token: readerToken });
    const marker = await send(stack, { path: '/orders/2', token: readerToken });
    expect(await decisionsFor(stack, marker.requestId)).toHaveLength(1);
    const lines = await readDecisions(stack);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    const perRequest = new Map<string, number>();
    for (const l of lines) perRequest.set(l.requestId, (perRequest.get(l.requestId) ?? 0) + 1);
    expect([...perRequest.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(lines.map((l) => l.decisionId)).size).toBe(lines.length);
  });
});
