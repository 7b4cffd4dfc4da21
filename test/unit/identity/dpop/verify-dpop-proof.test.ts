import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createProofKeyCache } from '../../../../src/identity/dpop/proof-key-cache.js';
import { normalizeUrl, verifyDpopProof } from '../../../../src/identity/dpop/verify-dpop-proof.js';

const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);
const URL_ = 'https://functions.example/orders/7';
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln';
const policy = { algorithms: ['ES256', 'RS256', 'EdDSA'], maxAgeSeconds: 60, clockSkewSeconds: 5 };
const ath = (token: string) => createHash('sha256').update(token).digest('base64url');

describe('verifyDpopProof (RFC 9449 §4.3)', () => {
  // One cache for every case, as in the authenticator: most cases reuse the valid proof's key, so they are
  // decided on a cached import, and must come out exactly as on a fresh one.
  let keys = createProofKeyCache();
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
    const result = await verifyDpopProof(await p, { method: 'GET', url: URL_, accessToken: TOKEN, nowMs: NOW, ...context }, policy, keys);
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
    { name: 'jwk with use "enc"', make: () => proof({}, { jwk: { ...jwk, use: 'enc' } }) },
    { name: 'jwk with another alg', make: () => proof({}, { jwk: { ...jwk, alg: 'ES384' } }) },
    { name: 'jwk off the curve', make: () => proof({}, { jwk: { ...jwk, y: jwk.x } }) },
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

  it('the import cache: a hit decides as a miss; a refused key is not remembered; a bounded cache stays correct past its bound', async () => {
    expect(await check(proof())).toBe('ok true');
    expect(await check(proof())).toBe('ok true');
    expect(await check(proof({}, {}, otherKey))).toBe('ERR_DPOP_PROOF');
    expect(await check(proof({}, { jwk: { ...jwk, use: 'enc' } }))).toBe('ERR_DPOP_PROOF');
    expect(await check(proof({}, { jwk: { ...jwk, use: 'sig' } }))).toBe('ok true');
    const saved = keys;
    try {
      keys = createProofKeyCache(2);
      const pairs = await Promise.all([1, 2, 3].map(() => generateKeyPair('ES256', { extractable: true })));
      const signed = async (pair: (typeof pairs)[number], by = pair.privateKey) =>
        check(
          await new SignJWT({ jti: 'p-2', htm: 'GET', htu: URL_, iat: NOW / 1000, ath: ath(TOKEN) })
            .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(pair.publicKey) })
            .sign(by),
        );
      for (const round of [1, 2]) {
        for (const [i, pair] of pairs.entries()) {
          expect([round, i, await signed(pair)]).toEqual([round, i, 'ok false']);
          expect([round, i, await signed(pair, key)]).toEqual([round, i, 'ERR_DPOP_PROOF']);
        }
      }
    } finally {
      keys = saved;
    }
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
