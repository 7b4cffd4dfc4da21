import { afterAll, beforeAll, expect, it } from 'vitest';
import { adminGet } from '../../scripts/lib/stack-processes.js';
import { describeWithEnvoy } from '../helpers/stack-envoy.js';
import type { TestStack } from '../helpers/stack-harness.js';
import { startTestStack } from '../helpers/stack-harness.js';
import { decisionsFor, readDecisions, send } from '../helpers/stack-http.js';

describeWithEnvoy('e2e: callguard unreachable → fail closed with 503', () => {
  let stack: TestStack;
  let token: string;

  beforeAll(async () => {
    stack = await startTestStack();
    token = await stack.issuer.mint({ subject: 'bob', groups: ['orders-readers'] });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('answers 503 and never calls the function once callguard is stopped', async () => {
    const warm = await send(stack, { path: '/orders/7', token });
    expect(warm.status).toBe(200);
    const reachedBefore = (await stack.fn.settled()).length;
    // The log writes in batches: wait for the warm call's line, or stopping would add it after the snapshot.
    expect(await decisionsFor(stack, warm.requestId)).toHaveLength(1);
    const loggedBefore = (await readDecisions(stack)).length;

    await stack.callguard.stop();
    for (const path of ['/orders/7', '/orders/8']) {
      const res = await send(stack, { path, token });
      expect(res.status).toBe(503);
      expect(res.headers['x-callguard-decision-id']).toBeUndefined();
    }
    expect((await stack.fn.settled()).length).toBe(reachedBefore);
    expect((await readDecisions(stack)).length).toBe(loggedBefore);
  });
});

describeWithEnvoy('e2e: function presenting a certificate with the wrong SAN', () => {
  let stack: TestStack;
  let token: string;

  beforeAll(async () => {
    // Signed by the same CA, valid for localhost/127.0.0.1, but its SAN is `impostor`, not `function`.
    stack = await startTestStack({ functionCert: 'function-wrong' });
    token = await stack.issuer.mint({ subject: 'bob', groups: ['orders-readers'] });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('callguard allows, but Envoy refuses to forward (503) and the handler never runs', async () => {
    const res = await send(stack, { path: '/orders/7', token });
    expect(res.status).toBe(503);
    expect(await decisionsFor(stack, res.requestId)).toMatchObject([{ function: 'orders.get', outcome: 'allow' }]);
    expect(await stack.fn.settled()).toHaveLength(0);
    const stats = await fetchStats(stack, 'cluster.function.ssl.fail_verify_san');
    expect(stats).toBeGreaterThan(0);
  });
});

/** One counter from Envoy's admin `/stats` (the proof that the SAN check, not something else, failed). */
async function fetchStats(stack: TestStack, name: string): Promise<number> {
  const text = await adminGet(stack.envoy.ready.adminAddress, `/stats?filter=^${name.replace(/\./g, '\\.')}$`);
  const match = new RegExp(`^${name.replace(/\./g, '\\.')}: (\\d+)$`, 'm').exec(text);
  return match?.[1] === undefined ? 0 : Number(match[1]);
}
