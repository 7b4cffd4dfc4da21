import { describe, expect, it } from 'vitest';
import { useCallguardFixture } from '../helpers/callguard-fixture.js';
import { summarize } from '../helpers/envoy-check.js';

const suite = useCallguardFixture();

const lastLine = () => suite.fx.log.lines.at(-1) as Record<string, unknown>;

describe('upstream hygiene on allow', () => {
  it('removes the credential and spoofed identity headers, adds the verified identity', async () => {
    const token = await suite.issuer.mint({ claims: { sub: 'alice', groups: ['orders-writers', 'x,y'] } });
    const s = summarize(
      await suite.fx.client.check({
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'x-callguard-subject': 'root',
          'x-callguard-roles': 'admin',
        },
        body: JSON.stringify({ orderId: 'ord-9', quantity: 1, card: { number: '4111111111111111' } }),
      }),
    );
    expect(s.allow).toBe(true);
    if (!s.allow) return;
    expect(s.headers).toEqual({
      'x-callguard-function': 'orders.create',
      'x-callguard-decision-id': expect.stringMatching(/^[0-9a-f-]{36}$/),
      'x-callguard-subject': 'alice',
      'x-callguard-issuer': suite.issuer.url,
      'x-callguard-groups': 'orders-writers,x%2Cy',
      'x-callguard-credential': 'jwt',
    });
    expect([...s.remove].sort()).toEqual([
      'authorization',
      'dpop',
      'x-callguard-roles',
      'x-callguard-spiffe-id',
      'x-http-method',
      'x-http-method-override',
      'x-method-override',
    ]);
    expect(lastLine().decisionId).toBe(s.headers['x-callguard-decision-id']);
  });
});

describe('decision log: one line per decision, field by field', () => {
  it('records an allow', async () => {
    const before = suite.fx.log.lines.length;
    const token = await suite.issuer.mint({ claims: { sub: 'alice', groups: ['orders-writers'], jti: 'jti-42' } });
    await suite.fx.client.check({
      path: '/orders?api_key=abc',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-request-id': 'rid-allow' },
      body: JSON.stringify({ orderId: 'ord-7', quantity: 3, card: { number: '4111111111111111' } }),
    });
    expect(suite.fx.log.lines.length).toBe(before + 1);
    const line = lastLine();
    expect(line).toEqual({
      level: 'info',
      time: expect.any(String),
      seq: expect.any(Number),
      prev: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      msg: 'decision',
      decisionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      config: suite.fx.callguard.policyDigest(),
      requestId: 'rid-allow',
      function: 'orders.create',
      outcome: 'allow',
      status: 200,
      code: null,
      reasons: [],
      principal: {
        kind: 'jwt',
        issuer: suite.issuer.url,
        subject: 'alice',
        groups: ['orders-writers'],
        jti: 'jti-42',
        tokenHash: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      },
      request: { method: 'POST', route: '/orders', host: 'functions.internal' },
      tls: { tls: true, sni: 'functions.internal' },
      source: '10.0.0.7:51234',
      payload: { contentType: 'application/json', bytes: expect.any(Number), fields: { '/orderId': 'ord-7', '/quantity': 3, '/card/number': '[masked]' } },
      latencyUs: expect.any(Number),
    });
  });

  it('records a denial with its reasons and violations', async () => {
    const token = await suite.issuer.mint({ claims: { sub: 'alice', groups: ['orders-writers'] } });
    await suite.fx.client.check({
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-request-id': 'rid-deny' },
      body: JSON.stringify({ orderId: 'bad', quantity: 1, card: { number: '4111111111111111' } }),
    });
    const line = lastLine();
    expect(line).toMatchObject({
      requestId: 'rid-deny',
      function: 'orders.create',
      outcome: 'deny',
      status: 400,
      code: 'ERR_BODY_SCHEMA',
      reasons: ['ERR_BODY_SCHEMA'],
      violations: [{ pointer: '/orderId', keyword: 'pattern' }],
      principal: { subject: 'alice' },
    });
  });

  it('records an unauthenticated denial without a principal', async () => {
    await suite.fx.client.check({ method: 'GET', path: '/orders/1', headers: { 'x-request-id': 'rid-anon' } });
    expect(lastLine()).toMatchObject({
      requestId: 'rid-anon',
      outcome: 'deny',
      status: 401,
      code: 'ERR_CREDENTIAL_MISSING',
      principal: null,
      function: 'orders.get',
    });
  });

  it('records a malformed CheckRequest as a denial, not a gRPC error', async () => {
    const response = await suite.fx.client.checkBytes(new Uint8Array([0x0a, 0xff, 0xff, 0xff]));
    const { decodeCheckResponse } = await import('../helpers/envoy-check.js');
    const s = summarize(decodeCheckResponse(response));
    expect(s.allow).toBe(false);
    if (!s.allow) expect(s.problem.code).toBe('ERR_REQUEST_MALFORMED');
    expect(lastLine()).toMatchObject({ outcome: 'deny', code: 'ERR_REQUEST_MALFORMED', function: null });
  });
});

describe('JWKS server down after the first fetch', () => {
  it('keeps verifying with keys already fetched', async () => {
    const first = await suite.issuer.mint({ claims: { sub: 'carol', groups: ['orders-readers'] } });
    expect(summarize(await suite.fx.client.check({ method: 'GET', path: '/orders/1', headers: { authorization: `Bearer ${first}` } })).allow).toBe(true);
    suite.issuer.setMode('refuse');
    try {
      // A token never seen before (not in the token cache), signed by a key fetched earlier.
      const second = await suite.issuer.mint({ key: suite.issuer.es256, claims: { sub: 'dave', groups: ['orders-readers'] } });
      expect(summarize(await suite.fx.client.check({ method: 'GET', path: '/orders/2', headers: { authorization: `Bearer ${second}` } })).allow).toBe(true);
      // An unknown key cannot be fetched now: denied, never allowed.
      const unknown = await suite.issuer.mint({ key: await suite.issuer.createKey('RS256', 'rotated'), claims: { groups: ['orders-readers'] } });
      const s = summarize(await suite.fx.client.check({ method: 'GET', path: '/orders/3', headers: { authorization: `Bearer ${unknown}` } }));
      expect(s.allow).toBe(false);
      if (!s.allow) expect(['ERR_TOKEN_KEY_UNKNOWN', 'ERR_KEYS_UNAVAILABLE']).toContain(s.problem.code);
    } finally {
      suite.issuer.setMode('ok');
    }
  });
});
