import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fixture, startFixture } from '../helpers/callguard-fixture.js';
import { type EnvoyShape, summarize } from '../helpers/envoy-check.js';
import { createTestIssuer, forgeToken, type TestIssuer } from '../helpers/jwt-issuer.js';
import { createTestCerts } from '../helpers/test-certs.js';

const BILLING = 'spiffe://example.org/ns/default/sa/billing';
const order = (extra: Record<string, unknown> = {}) => JSON.stringify({ orderId: 'ord-1', quantity: 2, card: { number: '4111111111111111' }, ...extra });

let issuer: TestIssuer;
let fx: Fixture;
const certs = createTestCerts();
const pem: Record<string, string> = {};
const tokens: Record<string, string> = {};

beforeAll(async () => {
  issuer = await createTestIssuer();
  fx = await startFixture(issuer.jwksUrl, issuer.url);
  pem.billing = certs.leaf('billing', `URI:${BILLING}`).pem;
  pem.other = certs.leaf('other', 'URI:spiffe://example.org/ns/default/sa/other').pem;
  pem.foreign = certs.leaf('foreign', 'URI:spiffe://evil.org/ns/default/sa/billing').pem;
  const now = Math.floor(Date.now() / 1000);
  const other = await issuer.createKey('RS256', 'unpublished');
  tokens.writer = await issuer.mint({ claims: { sub: 'alice', groups: ['orders-writers'], jti: 'jti-writer' } });
  tokens.writerEs = await issuer.mint({ key: issuer.es256, claims: { sub: 'alice', groups: ['orders-writers'] } });
  tokens.reader = await issuer.mint({ claims: { sub: 'bob', groups: 'orders-readers' } });
  tokens.reports = await issuer.mint({ claims: { sub: 'svc-reports' } });
  tokens.expired = await issuer.mint({ claims: { groups: ['orders-writers'], iat: now - 600, exp: now - 60 } });
  tokens.notYet = await issuer.mint({ claims: { groups: ['orders-writers'], nbf: now + 600 } });
  tokens.wrongAud = await issuer.mint({ claims: { groups: ['orders-writers'], aud: 'someone-else' } });
  tokens.wrongIss = await issuer.mint({ claims: { groups: ['orders-writers'], iss: 'https://evil.example' } });
  tokens.noExp = await issuer.mint({ claims: { groups: ['orders-writers'], exp: undefined } });
  tokens.longLived = await issuer.mint({ claims: { groups: ['orders-writers'], exp: now + 10 * 365 * 86400 } });
  tokens.loneSurrogate = await issuer.mint({ claims: { sub: 'ali\uD800ce', groups: ['orders-writers'] } });
  tokens.unknownKid = await issuer.mint({ key: other, claims: { groups: ['orders-writers'] } });
  tokens.hsWithPublicKey = await issuer.mint({
    key: new TextEncoder().encode(issuer.rs256.spkiPem),
    alg: 'HS256',
    header: { kid: issuer.rs256.kid },
    claims: { groups: ['orders-writers'] },
  });
  tokens.none = forgeToken({ alg: 'none' }, { iss: issuer.url, sub: 'alice', aud: 'callguard', exp: now + 300, groups: ['orders-writers'] }, '');
  const [h, , s] = tokens.writer.split('.');
  tokens.tampered = `${h}.${Buffer.from(JSON.stringify({ iss: issuer.url, sub: 'alice', aud: 'callguard', exp: now + 300, groups: ['admins', 'orders-writers'] })).toString('base64url')}.${s}`;
});
afterAll(async () => {
  await fx.close();
  await issuer.close();
  certs.cleanup();
});

const bearer = (name: string) => ({ authorization: `Bearer ${tokens[name]}` });
const json = { 'content-type': 'application/json' };

type Case = { name: string; shape: () => EnvoyShape; status: number; code?: string };

const cases: Case[] = [
  // 200
  { name: 'writer creates an order', shape: () => ({ headers: { ...bearer('writer'), ...json }, body: order() }), status: 200 },
  { name: 'ES256 token', shape: () => ({ headers: { ...bearer('writerEs'), ...json }, body: order() }), status: 200 },
  { name: 'reader gets an order (no body)', shape: () => ({ method: 'GET', path: '/orders/42', headers: bearer('reader') }), status: 200 },
  {
    name: 'route names the function',
    shape: () => ({ method: 'POST', path: '/anything', headers: bearer('reports'), contextExtensions: { function: 'reports.run' } }),
    status: 200,
  },
  {
    name: 'mTLS peer with the allowed SPIFFE ID',
    shape: () => ({ path: '/billing/charge', peer: { principal: BILLING, pem: pem.billing as string }, headers: json, body: '{"amount":5}' }),
    status: 200,
  },
  // transport
  {
    name: 'plaintext with forged https headers',
    shape: () => ({ tls: false, headers: { ...bearer('writer'), ...json, 'x-forwarded-proto': 'https', ':scheme': 'https' }, body: order() }),
    status: 403,
    code: 'ERR_TLS_REQUIRED',
  },
  {
    name: 'mTLS function without a peer',
    shape: () => ({ path: '/billing/charge', headers: { ...bearer('writer'), ...json }, body: '{"amount":5}' }),
    status: 403,
    code: 'ERR_MTLS_REQUIRED',
  },
  {
    name: 'mTLS peer from an untrusted domain',
    shape: () => ({
      path: '/billing/charge',
      peer: { principal: 'spiffe://evil.org/ns/default/sa/billing', pem: pem.foreign as string },
      headers: json,
      body: '{"amount":5}',
    }),
    status: 403,
    code: 'ERR_PEER_UNTRUSTED',
  },
  {
    name: 'mTLS peer without certificate',
    shape: () => ({ path: '/billing/charge', peer: { principal: BILLING }, headers: json, body: '{"amount":5}' }),
    status: 403,
    code: 'ERR_PEER_INVALID',
  },
  {
    name: 'mTLS peer with another SPIFFE ID',
    shape: () => ({
      path: '/billing/charge',
      peer: { principal: 'spiffe://example.org/ns/default/sa/other', pem: pem.other as string },
      headers: json,
      body: '{"amount":5}',
    }),
    status: 403,
    code: 'ERR_NOT_PERMITTED',
  },
  // routing
  { name: 'unknown path', shape: () => ({ path: '/admin/drop', headers: bearer('writer') }), status: 404, code: 'ERR_FUNCTION_UNKNOWN' },
  {
    name: 'route names an unknown function',
    shape: () => ({ headers: bearer('writer'), contextExtensions: { function: 'nope' } }),
    status: 404,
    code: 'ERR_FUNCTION_UNKNOWN',
  },
  {
    name: 'route names a function but the method differs',
    shape: () => ({ method: 'DELETE', path: '/orders/42', headers: bearer('reader'), contextExtensions: { function: 'orders.get' } }),
    status: 404,
    code: 'ERR_FUNCTION_UNKNOWN',
  },
  {
    name: 'route names a function, non-canonical path',
    shape: () => ({ method: 'GET', path: '/orders/%2e%2e', headers: bearer('reader'), contextExtensions: { function: 'orders.get' } }),
    status: 404,
    code: 'ERR_FUNCTION_UNKNOWN',
  },
  {
    name: 'route names a function, matching request',
    shape: () => ({ method: 'GET', path: '/orders/42', headers: bearer('reader'), contextExtensions: { function: 'orders.get' } }),
    status: 200,
  },
  {
    name: 'double-slash variant',
    shape: () => ({ path: '//orders', headers: { ...bearer('writer'), ...json }, body: order() }),
    status: 404,
    code: 'ERR_FUNCTION_UNKNOWN',
  },
  {
    name: 'encoded-slash variant',
    shape: () => ({ method: 'GET', path: '/orders%2F42', headers: bearer('reader') }),
    status: 404,
    code: 'ERR_FUNCTION_UNKNOWN',
  },
  // 401
  { name: 'no credential', shape: () => ({ headers: json, body: order() }), status: 401, code: 'ERR_CREDENTIAL_MISSING' },
  { name: 'basic auth', shape: () => ({ headers: { authorization: 'Basic YWxpY2U6cHc=' } }), status: 401, code: 'ERR_CREDENTIAL_SCHEME' },
  { name: 'two segments', shape: () => ({ headers: { authorization: 'Bearer abc.def' } }), status: 401, code: 'ERR_TOKEN_MALFORMED' },
  { name: 'padding in segment', shape: () => ({ headers: { authorization: `Bearer ${tokens.writer}=` } }), status: 401, code: 'ERR_TOKEN_MALFORMED' },
  { name: 'four segments', shape: () => ({ headers: { authorization: `Bearer ${tokens.writer}.abc` } }), status: 401, code: 'ERR_TOKEN_MALFORMED' },
  { name: 'oversized token', shape: () => ({ headers: { authorization: `Bearer ${'a'.repeat(9000)}.b.c` } }), status: 401, code: 'ERR_TOKEN_MALFORMED' },
  {
    name: 'duplicate authorization headers (joined by Envoy)',
    shape: () => ({ headers: { authorization: `Bearer ${tokens.writer},Bearer ${tokens.reader}` } }),
    status: 401,
    code: 'ERR_CREDENTIAL_AMBIGUOUS',
  },
  { name: 'expired', shape: () => ({ headers: bearer('expired') }), status: 401, code: 'ERR_TOKEN_EXPIRED' },
  { name: 'not yet valid', shape: () => ({ headers: bearer('notYet') }), status: 401, code: 'ERR_TOKEN_NOT_YET_VALID' },
  { name: 'wrong audience', shape: () => ({ headers: bearer('wrongAud') }), status: 401, code: 'ERR_TOKEN_AUDIENCE' },
  { name: 'wrong issuer', shape: () => ({ headers: bearer('wrongIss') }), status: 401, code: 'ERR_TOKEN_ISSUER' },
  { name: 'no exp', shape: () => ({ headers: bearer('noExp') }), status: 401, code: 'ERR_TOKEN_CLAIMS' },
  { name: 'token minted to live ten years', shape: () => ({ headers: bearer('longLived') }), status: 401, code: 'ERR_TOKEN_LIFETIME' },
  { name: 'sub with a lone surrogate', shape: () => ({ headers: bearer('loneSurrogate') }), status: 401, code: 'ERR_TOKEN_MALFORMED' },
  { name: 'alg none', shape: () => ({ headers: bearer('none') }), status: 401, code: 'ERR_TOKEN_ALGORITHM' },
  { name: 'HS256 signed with the RSA public key', shape: () => ({ headers: bearer('hsWithPublicKey') }), status: 401, code: 'ERR_TOKEN_ALGORITHM' },
  { name: 'unknown kid', shape: () => ({ headers: bearer('unknownKid') }), status: 401, code: 'ERR_TOKEN_KEY_UNKNOWN' },
  { name: 'tampered claims', shape: () => ({ headers: bearer('tampered') }), status: 401, code: 'ERR_TOKEN_SIGNATURE' },
  // 403
  { name: 'reader may not create', shape: () => ({ headers: { ...bearer('reader'), ...json }, body: order() }), status: 403, code: 'ERR_NOT_PERMITTED' },
  {
    name: 'reports service may not read orders',
    shape: () => ({ method: 'GET', path: '/orders/1', headers: bearer('reports') }),
    status: 403,
    code: 'ERR_NOT_PERMITTED',
  },
  // 400 / 413
  {
    name: 'wrong content type',
    shape: () => ({ headers: { ...bearer('writer'), 'content-type': 'text/plain' }, body: order() }),
    status: 400,
    code: 'ERR_CONTENT_TYPE',
  },
  { name: 'missing content type', shape: () => ({ headers: bearer('writer'), body: order() }), status: 400, code: 'ERR_CONTENT_TYPE' },
  {
    name: 'body on a function without input',
    shape: () => ({ method: 'GET', path: '/orders/42', headers: { ...bearer('reader'), ...json }, body: '{}' }),
    status: 400,
    code: 'ERR_CONTENT_TYPE',
  },
  { name: 'missing body', shape: () => ({ headers: { ...bearer('writer'), ...json } }), status: 400, code: 'ERR_BODY_MISSING' },
  { name: 'invalid JSON', shape: () => ({ headers: { ...bearer('writer'), ...json }, body: '{orderId: 1}' }), status: 400, code: 'ERR_BODY_INVALID_JSON' },
  {
    name: 'truncated JSON (not marked partial)',
    shape: () => ({ headers: { ...bearer('writer'), ...json }, body: '{"orderId":', partial: false }),
    status: 400,
    code: 'ERR_BODY_INVALID_JSON',
  },
  {
    name: 'duplicate keys',
    shape: () => ({
      headers: { ...bearer('writer'), ...json },
      body: '{"orderId":"ord-1","orderId":"ord-2","quantity":1,"card":{"number":"4111111111111111"}}',
    }),
    status: 400,
    code: 'ERR_BODY_INVALID_JSON',
  },
  {
    name: 'integer beyond 2^53',
    shape: () => ({ headers: { ...bearer('writer'), ...json }, body: order({ quantity: 1234 }).replace('1234', '9007199254740993') }),
    status: 400,
    code: 'ERR_BODY_INVALID_JSON',
  },
  {
    name: 'schema violation',
    shape: () => ({ headers: { ...bearer('writer'), ...json }, body: order({ quantity: 0, admin: true }) }),
    status: 400,
    code: 'ERR_BODY_SCHEMA',
  },
  { name: 'partial body', shape: () => ({ headers: { ...bearer('writer'), ...json }, body: order(), partial: true }), status: 413, code: 'ERR_BODY_PARTIAL' },
];

describe('Check over gRPC with Envoy-shaped requests', () => {
  it.each(cases)('$name → $status $code', async ({ shape, status, code }) => {
    const s = summarize(await fx.client.check(shape()));
    if (s.allow) {
      expect(code).toBeUndefined();
      expect(status).toBe(200);
      expect(s.grpc).toBe(0);
      return;
    }
    expect(s.problem.code).toBe(code);
    expect(s.status).toBe(status);
    expect(s.grpc).not.toBe(0);
    expect(s.headers['content-type']).toBe('application/problem+json');
    if (status === 401) expect(s.headers['www-authenticate']).toMatch(/^Bearer realm="callguard"/);
  });
});

describe('payload edge cases through the server', () => {
  it.each([
    { name: 'compressed body', headers: { 'content-encoding': 'gzip' }, body: order(), code: 'ERR_CONTENT_TYPE' },
    {
      name: 'decimal beyond double precision',
      headers: {},
      body: order({ quantity: 1 }).replace('"quantity":1', '"quantity":1.0000000000000000001'),
      code: 'ERR_BODY_INVALID_JSON',
    },
  ])('$name → $code', async ({ headers, body, code }) => {
    const s = summarize(await fx.client.check({ headers: { ...bearer('writer'), ...json, ...headers }, body }));
    expect(s.allow ? undefined : s.problem.code).toBe(code);
  });
});

describe('issuer tokenType (RFC 8725 §3.11)', () => {
  it.each([
    { name: 'access token typ', typ: 'at+jwt', code: undefined },
    { name: 'typ with application/ prefix', typ: 'application/at+jwt', code: undefined },
    { name: 'ID token (typ JWT)', typ: 'JWT', code: 'ERR_TOKEN_CLAIMS' },
    { name: 'no typ', typ: undefined, code: 'ERR_TOKEN_CLAIMS' },
  ])('$name', async ({ typ, code }) => {
    const { createJwtAuthenticator } = await import('../../src/identity/jwt/jwt-authenticator.js');
    const { testIdentityConfig, testIssuerConfig } = await import('../helpers/jwt-config.js');
    const verifier = await createJwtAuthenticator(testIdentityConfig([{ ...testIssuerConfig(issuer), tokenType: 'at+jwt' }]));
    const token = await issuer.mint({ header: { typ } });
    const result = await verifier.authenticate(token);
    verifier.close();
    expect(result.ok ? undefined : result.code).toBe(code);
  });
});
