import { describe, expect, it } from 'vitest';
import { useCallguardFixture } from '../helpers/callguard-fixture.js';
import { type EnvoyShape, summarize } from '../helpers/envoy-check.js';

const CARD = '4929123456781234';
const NOTE = 'hunter2-note-secret';
const COOKIE = 'session=cookie-secret-77';
const API_KEY = 'apikey-secret-99';
const QUERY = 'query-secret-55';
const PASSWORD = 'cGFzc3dvcmQtc2VjcmV0'; // base64 of password-secret
// Caller-controlled request parts (issue 8, log hygiene): each would be logged if it were copied.
const HOST = 'host-secret-11';
const SEGMENT = 'segment-secret-22';
const MATRIX = 'matrix-secret-33';
const REQUEST_ID = 'rid-secret-44';
const MEDIA = 'x-media-secret-66';

const suite = useCallguardFixture();
const tokens: string[] = [];

describe('no secret reaches the decision log or the caller', () => {
  it('across allow, 401, 403, 400 and 413 paths', async () => {
    const now = Math.floor(Date.now() / 1000);
    const good = await suite.issuer.mint({ claims: { sub: 'alice', groups: ['orders-writers'] } });
    const expired = await suite.issuer.mint({ claims: { groups: ['orders-writers'], iat: now - 900, exp: now - 600 } });
    const reader = await suite.issuer.mint({ claims: { groups: ['orders-readers'] } });
    tokens.push(good, expired, reader);
    const secretHeaders = { cookie: COOKIE, 'x-api-key': API_KEY, 'content-type': 'application/json' };
    const body = (extra: Record<string, unknown> = {}) => JSON.stringify({ orderId: 'ord-1', quantity: 1, note: NOTE, card: { number: CARD }, ...extra });
    const shapes: EnvoyShape[] = [
      { path: `/orders?api_key=${QUERY}`, headers: { ...secretHeaders, authorization: `Bearer ${good}` }, body: body() },
      { headers: { ...secretHeaders, authorization: `Bearer ${expired}` }, body: body() },
      { headers: { ...secretHeaders, authorization: `Bearer ${good.slice(0, -4)}AAAA` }, body: body() },
      { headers: { ...secretHeaders, authorization: `Basic ${PASSWORD}` }, body: body() },
      { headers: { ...secretHeaders, authorization: `Bearer ${reader}` }, body: body() },
      { headers: { ...secretHeaders, authorization: `Bearer ${good}` }, body: body({ quantity: NOTE, card: { number: `x${CARD}` } }) },
      { headers: { ...secretHeaders, authorization: `Bearer ${good}` }, body: `{"note":"${NOTE}","card":{"number":"${CARD}"},` },
      { headers: { ...secretHeaders, authorization: `Bearer ${good}` }, body: `{"note":"${NOTE}","note":"${CARD}"}` },
      { headers: { ...secretHeaders, authorization: `Bearer ${good}` }, body: body(), partial: true },
      { tls: false, headers: { ...secretHeaders, authorization: `Bearer ${good}` }, body: body() },
      // A second Host header (Envoy joins them with a comma), a matrix parameter on a loggable {id}, a request id with a `;`.
      {
        method: 'GET',
        host: `functions.internal,${HOST}`,
        path: `/orders/7;jsessionid=${MATRIX}?q=${QUERY}`,
        headers: { authorization: `Bearer ${reader}`, 'x-request-id': `r;${REQUEST_ID}` },
      },
      // A loggable {id} whose value is not plain: redacted.
      { method: 'GET', path: `/orders/${SEGMENT}%20x`, headers: { authorization: `Bearer ${reader}` } },
      // Unknown functions: no template, so no segment is logged.
      { method: 'GET', path: `/admin/${SEGMENT}/x?token=${QUERY}`, headers: { authorization: `Bearer ${reader}` } },
      { method: 'POST', path: `/orders/${SEGMENT}`, headers: { authorization: `Bearer ${good}` }, host: `${HOST}.example/x` },
      // A content type of the caller's invention, on a function that takes no body.
      { method: 'GET', path: '/orders/8', headers: { authorization: `Bearer ${reader}`, 'content-type': `application/${MEDIA}` } },
    ];
    const responses: string[] = [];
    for (const shape of shapes) {
      const s = summarize(await suite.fx.client.check(shape));
      responses.push(JSON.stringify(s));
    }
    expect(suite.fx.log.raw.length).toBe(shapes.length);
    const haystacks = [...suite.fx.log.raw, ...responses.map((r) => r.replace(/"x-callguard-[a-z-]+":"[^"]*"/g, ''))];
    const needles = [
      CARD,
      NOTE,
      COOKIE,
      'cookie-secret',
      API_KEY,
      QUERY,
      PASSWORD,
      HOST,
      SEGMENT,
      MATRIX,
      REQUEST_ID,
      MEDIA,
      ...tokens,
      ...tokens.map((t) => t.split('.')[2] as string),
    ];
    for (const hay of haystacks) {
      for (const needle of needles) expect(hay.includes(needle), `found ${needle} in: ${hay}`).toBe(false);
    }
    // Flagged, not copied; the parts that may be logged still are.
    expect(suite.fx.log.lines[10]).toMatchObject({
      outcome: 'allow',
      requestId: '[redacted]',
      request: { method: 'GET', route: '/orders/{id}', params: { id: '7' }, hostProblem: 'multiple values' },
    });
    expect(suite.fx.log.lines[11]).toMatchObject({ request: { route: '/orders/{id}', params: { id: '[redacted]' }, host: 'functions.internal' } });
    expect(suite.fx.log.lines[12]).toMatchObject({ code: 'ERR_FUNCTION_UNKNOWN', request: { route: null } });
    expect(suite.fx.log.lines[13]).toMatchObject({ code: 'ERR_FUNCTION_UNKNOWN', request: { route: null, hostProblem: 'not a host name' } });
    expect(suite.fx.log.lines[14]).toMatchObject({ outcome: 'allow', payload: { contentType: 'other' } });
    // The sensitive field is still visibly accounted for, masked.
    expect(suite.fx.log.lines[0], JSON.stringify(suite.fx.log.lines[0])).toMatchObject({
      outcome: 'allow',
      payload: { fields: { '/card/number': '[masked]' } },
    });
  });
});
