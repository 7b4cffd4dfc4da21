import { readFileSync } from 'node:fs';
import { connect as connectH2 } from 'node:http2';
import path from 'node:path';
import { connect as connectTls } from 'node:tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithEnvoy } from '../helpers/stack-envoy.js';
import type { TestStack } from '../helpers/stack-harness.js';
import { startTestStack } from '../helpers/stack-harness.js';
import { decisionsFor, send, sendRaw } from '../helpers/stack-http.js';

const BILLING_ID = 'spiffe://example.org/ns/default/sa/billing';
const CHARGE = JSON.stringify({ orderId: 'o-1', amountCents: 1250, currency: 'EUR' });
const ORDER = JSON.stringify({ sku: 'ABC-123', quantity: 1, card: { number: '4111111111111111', expiry: '12/30' } });

/** The only (path the function received → function name callguard stated) pairs that may ever occur. */
function nameForUpstreamPath(path: string): string | undefined {
  if (path === '/orders') return 'orders.create';
  if (/^\/orders\/[^/]+$/.test(path)) return 'orders.get';
  if (path === '/billing/charge') return 'billing.charge';
  return undefined;
}

describeWithEnvoy('e2e: transport — TLS only, mTLS peers, normalized paths', () => {
  let stack: TestStack;
  let token: string;

  beforeAll(async () => {
    stack = await startTestStack();
    // Broad rights and a client certificate: any path trick that misroutes would show up as an allow.
    token = await stack.issuer.mint({ subject: 'alice', groups: ['orders-writers', 'orders-readers'] });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('plaintext HTTP to the TLS listener never reaches a function (forged x-forwarded-proto or not)', async () => {
    const before = (await stack.fn.settled()).length;
    const reply = await sendRaw(
      stack.envoyPort,
      `GET /orders/1 HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-Proto: https\r\nAuthorization: Bearer ${token}\r\n\r\n`,
    );
    expect(reply).not.toMatch(/^HTTP\/1\.[01] /);
    const absolute = await sendRaw(stack.envoyPort, 'GET https://localhost/orders/1 HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect(absolute).not.toMatch(/^HTTP\/1\.[01] /);
    expect((await stack.fn.settled()).length).toBe(before);
  });

  it.each(['h2', 'http/1.1'])('negotiates %s by ALPN', async (protocol) => {
    const ca = readFileSync(path.join(stack.pkiDir, 'ca.crt'));
    const negotiated = await new Promise<string | false | null>((resolve, reject) => {
      const socket = connectTls({ host: '127.0.0.1', port: stack.envoyPort, servername: 'envoy', ca, ALPNProtocols: [protocol] }, () => {
        resolve(socket.alpnProtocol);
        socket.end();
      });
      socket.on('error', reject);
    });
    expect(negotiated).toBe(protocol);
  });

  it('an allowed call over HTTP/2 reaches the function', async () => {
    const ca = readFileSync(path.join(stack.pkiDir, 'ca.crt'));
    const session = connectH2(`https://127.0.0.1:${stack.envoyPort}`, { ca, servername: 'envoy' });
    try {
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = session.request({ ':method': 'GET', ':path': '/orders/42', authorization: `Bearer ${token}` });
        let status = 0;
        let body = '';
        req.on('response', (headers) => {
          status = Number(headers[':status']);
        });
        req.on('data', (chunk: Buffer) => {
          body += chunk.toString('utf8');
        });
        req.on('end', () => resolve({ status, body }));
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(200);
      expect(JSON.parse(body)).toMatchObject({ function: '/orders/42', identity: { 'x-callguard-function': 'orders.get' } });
    } finally {
      session.close();
    }
  });

  it('forwarding headers a caller forges are overwritten or removed by Envoy', async () => {
    const res = await send(stack, {
      path: '/orders/1',
      token,
      headers: { 'x-forwarded-proto': 'http', 'x-forwarded-client-cert': `By=${BILLING_ID};URI=${BILLING_ID}` },
    });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ forwardedProto: 'https', clientCertHeaderPresent: false });
  });

  it('an mTLS client with the expected SPIFFE ID is allowed on billing.charge', async () => {
    const res = await send(stack, { method: 'POST', path: '/billing/charge', clientCert: true, body: CHARGE });
    expect(res.status).toBe(200);
    const seen = res.json<{ function: string; identity: Record<string, string> }>();
    expect(seen.function).toBe('/billing/charge');
    expect(seen.identity).toMatchObject({ 'x-callguard-spiffe-id': BILLING_ID, 'x-callguard-function': 'billing.charge' });
    expect(await decisionsFor(stack, res.requestId)).toMatchObject([{ function: 'billing.charge', outcome: 'allow', principal: { spiffeId: BILLING_ID } }]);
  });

  it('the same call without a client certificate is denied (403), even with a valid token', async () => {
    const before = (await stack.fn.settled()).length;
    const res = await send(stack, { method: 'POST', path: '/billing/charge', token, body: CHARGE });
    expect(res.json()['code']).toBe('ERR_MTLS_REQUIRED');
    expect(res.status).toBe(403);
    expect(await decisionsFor(stack, res.requestId)).toMatchObject([{ function: 'billing.charge', outcome: 'deny', status: 403 }]);
    expect((await stack.fn.settled()).length).toBe(before);
  });

  it.each([
    { name: 'double slash', method: 'POST', path: '//orders', body: ORDER, status: 200 },
    { name: 'dot segment', method: 'POST', path: '/x/../orders', body: ORDER, status: 200 },
    { name: 'encoded slash', method: 'POST', path: '/%2Forders', body: ORDER, status: 400 },
    { name: 'encoded slash inside', method: 'GET', path: '/orders%2F1', body: undefined, status: 400 },
    { name: 'encoded backslash', method: 'GET', path: '/orders/1%5C..%5C..%5Cbilling', body: undefined, status: 400 },
    { name: 'escape from orders.get', method: 'GET', path: '/orders/1/../../billing/charge', body: undefined, status: 404 },
    { name: 'encoded traversal', method: 'POST', path: '/orders/..%2F..%2Fbilling%2Fcharge', body: CHARGE, status: 400 },
    { name: 'encoded dots', method: 'POST', path: '/orders/%2e%2e/billing/charge', body: CHARGE, status: 200 },
    { name: 'slashes and dots', method: 'POST', path: '/billing/charge/..//orders', body: ORDER, status: 404 },
    { name: 'case', method: 'POST', path: '/ORDERS', body: ORDER, status: 404 },
  ])('$name: $method $path → $status, never a function under another name', async ({ method, path, body, status }) => {
    const before = (await stack.fn.settled()).length;
    const res = await send(stack, { method, path, token, clientCert: true, ...(body === undefined ? {} : { body }) });
    expect(res.status).toBe(status);
    const reached = (await stack.fn.settled()).slice(before);
    expect(reached).toHaveLength(status === 200 ? 1 : 0);
    for (const r of reached) {
      expect(nameForUpstreamPath(r.function)).toBeDefined();
      expect(r.identity['x-callguard-function']).toBe(nameForUpstreamPath(r.function));
    }
  });
});
