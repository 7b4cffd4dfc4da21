import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fixture, startFixture } from '../helpers/callguard-fixture.js';
import { type EnvoyShape, summarize } from '../helpers/envoy-check.js';
import { createTestIssuer, type TestIssuer } from '../helpers/jwt-issuer.js';

type Json = Record<string, unknown>;

/**
 * `functions[].mode: shadow` on the real gRPC server: `orders.create` is shadowed, `orders.get` enforced.
 * A shadowed denial is let through (an OK CheckResponse) and logged `would-deny` with its code; what a
 * shadowed call changes upstream is only the identity headers; TLS and unknown functions stay enforced.
 */
describe('shadow mode (functions[].mode)', () => {
  let issuer: TestIssuer;
  let fx: Fixture;
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    issuer = await createTestIssuer();
    fx = await startFixture(issuer.jwksUrl, issuer.url, undefined, (config) => {
      const create = (config['functions'] as Json[]).find((f) => f['name'] === 'orders.create') as Json;
      create['mode'] = 'shadow';
    });
    tokens['writer'] = await issuer.mint({ claims: { sub: 'alice', groups: ['orders-writers'] } });
    tokens['reader'] = await issuer.mint({ claims: { sub: 'bob', groups: ['orders-readers'] } });
  });
  afterAll(async () => {
    await fx?.close();
    await issuer?.close();
  });

  const json = { 'content-type': 'application/json' };
  const order = (extra: Json = {}) => JSON.stringify({ orderId: 'ord-1', quantity: 2, card: { number: '4111111111111111' }, ...extra });
  const bearer = (name: string) => ({ authorization: `Bearer ${tokens[name]}` });
  const spoofed = { 'x-callguard-subject': 'root', 'x-callguard-role': 'admin' };

  const lastLine = () => fx.log.lines.at(-1) as unknown as Json;
  const check = async (shape: EnvoyShape) => {
    const before = fx.log.lines.length;
    const answer = summarize(await fx.client.check(shape));
    // One line per decision, written before the answer.
    expect(fx.log.lines.length).toBe(before + 1);
    return { answer, line: lastLine() };
  };

  it.each([
    { name: 'no credential', shape: () => ({ headers: { ...json, ...spoofed }, body: order() }), status: 401, code: 'ERR_CREDENTIAL_MISSING' },
    {
      name: 'a malformed token',
      shape: () => ({ headers: { ...json, authorization: 'Bearer a.b', ...spoofed }, body: order() }),
      status: 401,
      code: 'ERR_TOKEN_MALFORMED',
    },
    {
      name: 'a reader (not permitted)',
      shape: () => ({ headers: { ...json, ...bearer('reader'), ...spoofed }, body: order() }),
      status: 403,
      code: 'ERR_NOT_PERMITTED',
    },
    {
      name: 'a schema violation',
      shape: () => ({ headers: { ...json, ...bearer('writer'), ...spoofed }, body: order({ quantity: 0 }) }),
      status: 400,
      code: 'ERR_BODY_SCHEMA',
    },
  ])('shadowed, $name: let through, logged would-deny $status $code, no identity reaches the function', async ({ shape, status, code }) => {
    const { answer, line } = await check(shape());
    expect(answer.allow).toBe(true);
    if (!answer.allow) return;
    expect(answer.grpc).toBe(0);
    expect(line).toMatchObject({ function: 'orders.create', outcome: 'would-deny', mode: 'shadow', status, code });
    // Only the decision id is set; every identity header, and any caller header with the prefix, is removed.
    expect(answer.headers).toEqual({ 'x-callguard-decision-id': line['decisionId'] });
    expect(answer.remove).toEqual(expect.arrayContaining(['x-callguard-subject', 'x-callguard-groups', 'x-callguard-spiffe-id', 'x-callguard-role']));
    // The caller's own credential is left for a function that still checks it itself.
    expect(answer.remove).not.toContain('authorization');
  });

  it('shadowed and allowed: identity headers set, spoofed ones removed, the credential and method overrides left in place', async () => {
    const { answer, line } = await check({ headers: { ...json, ...bearer('writer'), ...spoofed, 'x-http-method-override': 'DELETE' }, body: order() });
    expect(answer.allow).toBe(true);
    if (!answer.allow) return;
    expect(line).toMatchObject({ function: 'orders.create', outcome: 'allow', mode: 'shadow', code: null });
    expect(answer.headers).toMatchObject({ 'x-callguard-subject': 'alice', 'x-callguard-function': 'orders.create' });
    expect(answer.remove).toContain('x-callguard-role');
    expect(answer.remove).not.toContain('authorization');
    expect(answer.remove).not.toContain('x-http-method-override');
  });

  it.each([
    {
      name: 'not over TLS, shadowed function',
      shape: () => ({ tls: false, headers: { ...json, ...bearer('writer') }, body: order() }),
      status: 403,
      code: 'ERR_TLS_REQUIRED',
    },
    { name: 'unknown function', shape: () => ({ method: 'DELETE', path: '/orders', headers: bearer('writer') }), status: 404, code: 'ERR_FUNCTION_UNKNOWN' },
    {
      name: 'enforced function, reader token',
      shape: () => ({ method: 'POST', path: '/orders/1/approve', headers: { ...json, ...bearer('reader') }, body: '{}' }),
      status: 403,
      code: 'ERR_NOT_PERMITTED',
    },
  ])('enforced: $name → deny $status $code, no mode on the line', async ({ shape, status, code }) => {
    const { answer, line } = await check(shape());
    expect(answer.allow).toBe(false);
    if (answer.allow) return;
    expect([answer.status, answer.problem.code]).toEqual([status, code]);
    expect(line).toMatchObject({ outcome: 'deny', code });
    expect(line['mode']).toBeUndefined();
  });

  it('an enforced allow carries no mode and still strips the credential', async () => {
    const { answer, line } = await check({ method: 'GET', path: '/orders/1', headers: bearer('reader') });
    expect(answer.allow).toBe(true);
    if (!answer.allow) return;
    expect(line).toMatchObject({ outcome: 'allow', function: 'orders.get' });
    expect(line['mode']).toBeUndefined();
    expect(answer.remove).toContain('authorization');
  });
});
