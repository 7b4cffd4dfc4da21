import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithEnvoy } from '../helpers/stack-envoy.js';
import { startTestStack, type TestStack } from '../helpers/stack-harness.js';
import { decisionsFor, send } from '../helpers/stack-http.js';

type Json = Record<string, unknown>;
interface Echo {
  identity: Record<string, string>;
  authorizationHeaderPresent: boolean;
  methodOverrideHeaders: string[];
}

const ORDER = JSON.stringify({ sku: 'ABC-123', quantity: 2, card: { number: '4111111111111111', expiry: '12/30' } });

/**
 * Issue 11, item 4, through real Envoy: `orders.create` in shadow mode reaches the function whatever
 * callguard would decide (logged `would-deny`), with the caller's own credential and nothing of callguard's
 * identity unless the call would be allowed; `orders.get` stays enforced.
 */
describeWithEnvoy('e2e: shadow mode (functions[].mode: shadow)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      customizeCallguard: (config) => {
        const create = (config['functions'] as Json[]).find((f) => f['name'] === 'orders.create') as Json;
        create['mode'] = 'shadow';
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it.each([
    { name: 'no token', groups: undefined, body: ORDER, status: 401, code: 'ERR_CREDENTIAL_MISSING' },
    { name: 'a reader token', groups: ['orders-readers'], body: ORDER, status: 403, code: 'ERR_NOT_PERMITTED' },
    { name: 'a schema violation', groups: ['orders-writers'], body: JSON.stringify({ sku: 'ABC-123', quantity: 0 }), status: 400, code: 'ERR_BODY_SCHEMA' },
  ])('$name: reaches the function (200) as sent, logged would-deny $status $code', async ({ groups, body, status, code }) => {
    const token = groups === undefined ? undefined : await stack.issuer.mint({ subject: 'bob', groups });
    const res = await send(stack, {
      method: 'POST',
      path: '/orders',
      body,
      headers: { 'x-callguard-subject': 'root' },
      ...(token === undefined ? {} : { token }),
    });
    expect(res.status).toBe(200);
    const seen = res.json<Echo>();
    const [line] = await decisionsFor(stack, res.requestId);
    expect(line).toMatchObject({ function: 'orders.create', outcome: 'would-deny', status, code });
    expect(seen.identity).toEqual({ 'x-callguard-decision-id': line?.decisionId });
    expect(seen.authorizationHeaderPresent).toBe(token !== undefined);
  });

  it('a writer: allowed, identity headers set, and the credential left for the function', async () => {
    const token = await stack.issuer.mint({ subject: 'alice', groups: ['orders-writers'] });
    const res = await send(stack, { method: 'POST', path: '/orders', body: ORDER, token });
    expect(res.status).toBe(200);
    const seen = res.json<Echo>();
    expect(seen.identity).toMatchObject({ 'x-callguard-subject': 'alice', 'x-callguard-function': 'orders.create' });
    expect(seen.authorizationHeaderPresent).toBe(true);
    expect(await decisionsFor(stack, res.requestId)).toMatchObject([{ outcome: 'allow', code: null }]);
  });

  it('the enforced function next to it still denies (401) and never reaches the function', async () => {
    const before = (await stack.fn.settled()).length;
    const res = await send(stack, { path: '/orders/7' });
    expect([res.status, res.json()['code']]).toEqual([401, 'ERR_CREDENTIAL_MISSING']);
    expect((await stack.fn.settled()).length).toBe(before);
  });
});
