import { afterEach, describe, expect, it } from 'vitest';
import { createFetchJson } from '../../../../src/identity/fetch-json.js';
import { createJwksUriResolver, discoveryUrl } from '../../../../src/identity/jwt/discovery.js';
import { createJwtAuthenticator, type JwtAuthenticator } from '../../../../src/identity/jwt/jwt-authenticator.js';
import { testIdentityConfig, testIssuerConfig } from '../../../helpers/jwt-config.js';
import { createEventRecorder } from '../../../helpers/jwt-events.js';
import { createTestIssuer, type TestIssuer } from '../../../helpers/jwt-issuer.js';

const open: { idp: TestIssuer; verifier: JwtAuthenticator }[] = [];
afterEach(async () => {
  for (const { idp, verifier } of open.splice(0)) {
    verifier.close();
    await idp.close();
  }
});

async function discover(discoveryIssuer?: string) {
  const idp = await createTestIssuer(discoveryIssuer === undefined ? {} : { discoveryIssuer });
  const recorder = createEventRecorder();
  const config = testIssuerConfig(idp, { jwksUrl: undefined, discovery: true });
  const verifier = await createJwtAuthenticator(testIdentityConfig([config]), { onEvent: recorder.onEvent });
  open.push({ idp, verifier });
  return { idp, verifier, recorder };
}

describe('OIDC discovery', () => {
  it.each([
    { name: 'bare issuer', issuer: 'https://idp.test', url: 'https://idp.test/.well-known/openid-configuration' },
    { name: 'trailing slash', issuer: 'https://idp.test/', url: 'https://idp.test/.well-known/openid-configuration' },
    { name: 'issuer with a path', issuer: 'https://idp.test/realms/a', url: 'https://idp.test/realms/a/.well-known/openid-configuration' },
  ])('builds the discovery URL for a $name', ({ issuer, url }) => {
    expect(discoveryUrl(issuer)).toBe(url);
  });

  it('finds the JWKS through the discovery document', async () => {
    const { idp, verifier } = await discover();
    const result = await verifier.authenticate(await idp.mint());
    expect(result.ok ? 'ok' : result.code).toBe('ok');
    expect(idp.requests).toEqual({ discovery: 1, jwks: 1 });
  });

  it.each([
    { name: 'an http jwks_uri off loopback', jwksUri: 'http://idp.example/jwks', error: /not https/ },
    { name: 'a relative jwks_uri', jwksUri: '/jwks', error: /not https/ },
    { name: 'no jwks_uri', jwksUri: undefined, error: /not https/ },
    { name: 'another issuer', issuer: 'https://impostor.test', jwksUri: 'https://idp.test/jwks', error: /does not equal/ },
  ])('refuses a discovery document with $name', async ({ issuer, jwksUri, error }) => {
    const fetchJson = async () => ({ issuer: issuer ?? 'https://idp.test', jwks_uri: jwksUri });
    await expect(createJwksUriResolver('https://idp.test', fetchJson)(AbortSignal.timeout(1000))).rejects.toThrow(error);
  });

  it('refuses a discovery document naming another issuer', async () => {
    const { idp, verifier, recorder } = await discover('https://impostor.test');
    const result = await verifier.authenticate(await idp.mint());
    expect(result.ok ? 'ok' : result.code).toBe('ERR_KEYS_UNAVAILABLE');
    expect(idp.requests.jwks).toBe(0);
    expect(recorder.events).toEqual([{ level: 'warn', issuer: 'test', msg: expect.stringContaining('"issuer" does not equal the configured issuer') }]);
  });
});

const reply = (body: ConstructorParameters<typeof Response>[0], init: ResponseInit) => async () => new Response(body, init);
const json = { 'content-type': 'application/json' };

describe('createFetchJson', () => {
  it.each([
    { name: 'application/json', fetch: reply('{"keys":[]}', { headers: json }) },
    { name: 'application/jwk-set+json with charset', fetch: reply('{"keys":[]}', { headers: { 'content-type': 'application/jwk-set+json; charset=utf-8' } }) },
  ])('reads $name', async ({ fetch }) => {
    await expect(createFetchJson(fetch)('https://idp.test/jwks', AbortSignal.timeout(1000))).resolves.toEqual({ keys: [] });
  });

  it.each([
    { name: 'a non-200 status', fetch: reply('{}', { status: 500, headers: json }), error: /HTTP 500/ },
    { name: 'a redirect status', fetch: reply(null, { status: 302, headers: { location: '/x' } }), error: /HTTP 302/ },
    { name: 'an HTML body', fetch: reply('<html>', { headers: { 'content-type': 'text/html' } }), error: /not JSON/ },
    { name: 'no content type', fetch: reply(new Uint8Array([123, 125]), {}), error: /not JSON/ },
    { name: 'invalid JSON', fetch: reply('{"keys":', { headers: json }), error: /not valid JSON/ },
    { name: 'a declared oversized body', fetch: reply('{}', { headers: { ...json, 'content-length': '2000000' } }), error: /exceeds/ },
    { name: 'a streamed oversized body', fetch: reply(`{"k":"${'a'.repeat(2048)}"}`, { headers: json }), error: /exceeds 1024 bytes/, max: 1024 },
  ])('rejects $name', async ({ fetch, error, max }) => {
    await expect(createFetchJson(fetch, max)('https://idp.test/jwks', AbortSignal.timeout(1000))).rejects.toThrow(error);
  });
});
