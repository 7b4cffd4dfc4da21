import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { normalizeUrl, verifyDpopProof } from '../../../../src/identity/dpop/verify-dpop-proof.js';

const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);
const URL_ = 'https://functions.example/orders/7';
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln';
const policy = { algorithms: ['ES256', 'RS256', 'EdDSA'], maxAgeSeconds: 60, clockSkewSeconds: 5 };
const ath = (token: string) => createHash('sha256').update(token).digest('base64url');

describe('verifyDpopProof (RFC 9449 §4.3)', () => {
  let key: CryptoKey;
  let jwk: JWK;
  let jkt: string;
  let otherKey: CryptoKey;
  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    key = pair.privateKey;
    jwk = await exportJWK(pair.publicKey);
    jkt = await calculateJwkThumbprint(jwk, 'sha256');
    otherKey = (await generateKeyPair('ES256')).privateKey;
  });

  const proof = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, signWith?: CryptoKey) =>
    new SignJWT({ jti: 'p-1', htm: 'GET', htu: URL_, iat: NOW / 1000, ath: ath(TOKEN), ...claims })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk, ...header })
      .sign(signWith ?? key);
  const check = async (p: string | Promise<string>, context: Partial<{ method: string; url: string; accessToken: string; nowMs: number }> = {}) => {
    const result = await verifyDpopProof(await p, { method: 'GET', url: URL_, accessToken: TOKEN, nowMs: NOW, ...context }, policy);
    return result.ok ? `ok ${result.value.jkt === jkt}` : result.code;
  };

  it('a valid proof yields its key thumbprint (RFC 7638) and jti', async () => {
    expect(await check(proof())).toBe('ok true');
  });

  it.each([
    { name: 'typ JWT', make: () => proof({}, { typ: 'JWT' }) },
    { name: 'no jwk', make: () => proof({}, { jwk: undefined }) },
    { name: 'a private key in jwk', make: async () => proof({}, { jwk: { ...jwk, d: 'AAAA' } }) },
    { name: 'signed by another key than jwk', make: () => proof({}, {}, otherKey) },
    { name: 'another method', make: () => proof({ htm: 'POST' }) },
    { name: 'another URL', make: () => proof({ htu: 'https://functions.example/orders/8' }) },
    { name: 'another host', make: () => proof({ htu: 'https://evil.example/orders/7' }) },
    { name: 'no jti', make: () => proof({ jti: undefined }) },
    { name: 'too old', make: () => proof({ iat: NOW / 1000 - 66 }) },
    { name: 'from the future', make: () => proof({ iat: NOW / 1000 + 6 }) },
    { name: 'for another token (ath)', make: () => proof({ ath: ath('another.token.x') }) },
    { name: 'no ath', make: () => proof({ ath: undefined }) },
    { name: 'not a JWS', make: async () => 'garbage' },
    { name: 'oversized', make: async () => 'a'.repeat(9000) },
  ])('$name → ERR_DPOP_PROOF', async ({ make }) => {
    expect(await check(make())).toBe('ERR_DPOP_PROOF');
  });

  it('an algorithm outside the allow-list is refused (HS256 never: a proof must be asymmetric)', async () => {
    const hs = await new SignJWT({ jti: 'x', htm: 'GET', htu: URL_, iat: NOW / 1000, ath: ath(TOKEN) })
      .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'AAAA' } as never })
      .sign(new Uint8Array(32));
    expect(await check(hs)).toBe('ERR_DPOP_PROOF');
  });

  it.each([
    { name: 'query and fragment ignored', htu: 'https://functions.example/orders/7?x=1#f', want: true },
    { name: 'default port', htu: 'https://functions.example:443/orders/7', want: true },
    { name: 'host case', htu: 'https://FUNCTIONS.example/orders/7', want: true },
    { name: 'another port', htu: 'https://functions.example:8443/orders/7', want: false },
    { name: 'http instead of https', htu: 'http://functions.example/orders/7', want: false },
  ])('htu normalization: $name', ({ htu, want }) => {
    expect(normalizeUrl(htu) === normalizeUrl(URL_)).toBe(want);
  });
});
