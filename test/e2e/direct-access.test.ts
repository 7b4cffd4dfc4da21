import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCheckClient, type EnvoyShape, summarize } from '../helpers/envoy-check.js';
import { describeWithEnvoy } from '../helpers/stack-envoy.js';
import type { TestStack } from '../helpers/stack-harness.js';
import { startTestStack } from '../helpers/stack-harness.js';
import { decisionsFor, send } from '../helpers/stack-http.js';

const BILLING_SAN = 'URI:spiffe://example.org/ns/default/sa/billing';

/** Client certificates from the dev PKI: the example workload (`client`) and Envoy's own (`envoy-client`). */
type ClientCert = 'client' | 'envoy-client';

describeWithEnvoy('e2e: nothing behind Envoy can be called around it', () => {
  let stack: TestStack;
  let readerToken: string;
  const pki = (file: string) => readFileSync(path.join(stack.pkiDir, file));

  beforeAll(async () => {
    stack = await startTestStack();
    readerToken = await stack.issuer.mint({ subject: 'bob', groups: ['orders-readers'] });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  /**
   * One HTTPS request straight to the function's port, as an attacker on the network would send it:
   * the function's certificate is verified (so a failure is the function refusing us, not us refusing
   * it), and it claims to be callguard's `admin`.
   */
  function callFunctionDirectly(cert: ClientCert | undefined): Promise<{ status: number } | { error: string }> {
    return new Promise((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: stack.fn.ready,
          servername: 'function',
          path: '/orders/1',
          headers: { 'x-callguard-subject': 'admin', 'x-callguard-groups': 'orders-readers,admins', 'x-callguard-function': 'orders.get' },
          ca: pki('ca.crt'),
          ...(cert === undefined ? {} : { cert: pki(`${cert}.crt`), key: pki(`${cert}.key`) }),
          agent: false,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        },
      );
      req.on('error', (err) => resolve({ error: err.message }));
      req.setTimeout(5000, () => req.destroy(new Error('timeout')));
      req.end();
    });
  }

  /** The function's refusal log is written asynchronously: wait (bounded) for the next one. */
  async function nextRefusal(after: number): Promise<(typeof stack.fn.refusals)[number] | undefined> {
    const deadline = Date.now() + 3000;
    while (stack.fn.refusals.length <= after && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return stack.fn.refusals[after];
  }

  it('the function, called directly without a client certificate: handshake refused, handler never runs', async () => {
    const reached = (await stack.fn.settled()).length;
    const refused = stack.fn.refusals.length;
    const result = await callFunctionDirectly(undefined);
    expect(result).toEqual({ error: expect.any(String) });
    expect((await nextRefusal(refused))?.reason).toMatch(/CERTIFICATE/i);
    expect((await stack.fn.settled()).length).toBe(reached);
  });

  it("the function, called directly with the workload's certificate (same CA, SPIFFE billing): refused by the SAN check", async () => {
    const reached = (await stack.fn.settled()).length;
    const refused = stack.fn.refusals.length;
    const result = await callFunctionDirectly('client');
    expect(result).toEqual({ status: 403 });
    expect(await nextRefusal(refused)).toMatchObject({ reason: 'client certificate is not Envoy', peer: BILLING_SAN });
    expect((await stack.fn.settled()).length).toBe(reached);
  });

  it('the function through Envoy: Envoy presents its client certificate and the call is served', async () => {
    const reached = (await stack.fn.settled()).length;
    const res = await send(stack, { path: '/orders/1', token: readerToken, headers: { 'x-callguard-subject': 'admin' } });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ function: '/orders/1', identity: { 'x-callguard-subject': 'bob', 'x-callguard-function': 'orders.get' } });
    expect((await stack.fn.settled()).length).toBe(reached + 1);
  });

  /** A Check sent straight to callguard over mTLS with the given client certificate. */
  async function checkDirectly(cert: ClientCert, requestId: string) {
    const client = createCheckClient(`127.0.0.1:${stack.callguard.ready}`, grpc.credentials.createSsl(pki('ca.crt'), pki(`${cert}.key`), pki(`${cert}.crt`)));
    const shape: EnvoyShape = {
      method: 'GET',
      path: '/orders/1',
      headers: { authorization: `Bearer ${readerToken}`, 'x-request-id': requestId },
      contextExtensions: { function: 'orders.get' },
    };
    try {
      return summarize(await client.check(shape));
    } finally {
      client.close();
    }
  }

  it("callguard, asked directly with the workload's certificate (same CA): denied ERR_CALLER_UNTRUSTED, not decided", async () => {
    const result = await checkDirectly('client', 'direct-workload');
    expect(result).toMatchObject({ allow: false, problem: { code: 'ERR_CALLER_UNTRUSTED' } });
  });

  it("callguard, asked with Envoy's client certificate: the same Check is decided normally (allow)", async () => {
    const result = await checkDirectly('envoy-client', 'direct-envoy');
    expect(result).toMatchObject({ allow: true, headers: { 'x-callguard-subject': 'bob', 'x-callguard-function': 'orders.get' } });
    expect(await decisionsFor(stack, 'direct-envoy')).toMatchObject([{ function: 'orders.get', outcome: 'allow' }]);
  });
});
