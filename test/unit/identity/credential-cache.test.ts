import { createHash } from 'node:crypto';
import { jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CREDENTIAL_CACHE_MAX_AGE_MS, createCredentialCache } from '../../../src/identity/credential-cache.js';
import { createJwtAuthenticator, type JwtAuthenticator } from '../../../src/identity/jwt/jwt-authenticator.js';
import type { JwtPrincipal } from '../../../src/principal.js';
import { testIdentityConfig, testIssuerConfig } from '../../helpers/jwt-config.js';
import { createTestIssuer, type TestIssuer } from '../../helpers/jwt-issuer.js';

vi.mock('jose', async (importOriginal) => {
  const actual = await importOriginal<typeof import('jose')>();
  return { ...actual, jwtVerify: vi.fn(actual.jwtVerify) };
});
const jose = vi.mocked(jwtVerify);

const T0 = Date.parse('2030-01-01T00:00:00Z');
let t = T0;
const now = () => t;
let idp: TestIssuer;
const verifiers: JwtAuthenticator[] = [];

async function verifierWith(options: { tokenCacheSize?: number; clockSkewSeconds?: number } = {}) {
  const verifier = await createJwtAuthenticator(testIdentityConfig([testIssuerConfig(idp)], options), { now });
  verifiers.push(verifier);
  return async (token: string) => {
    const result = await verifier.authenticate(token);
    return result.ok ? 'ok' : result.code;
  };
}

beforeAll(async () => {
  idp = await createTestIssuer({ now });
});
beforeEach(() => {
  t = T0;
  jose.mockClear();
});
afterAll(async () => {
  for (const verifier of verifiers) verifier.close();
  await idp.close();
});

describe('token cache', () => {
  it('answers a repeated token without calling jose', async () => {
    const verify = await verifierWith();
    const token = await idp.mint();
    expect([await verify(token), await verify(token), await verify(token)]).toEqual(['ok', 'ok', 'ok']);
    expect(jose).toHaveBeenCalledTimes(1);
  });

  it('answers a cached token synchronously (no promise on the hot path), a new one with a promise', async () => {
    const verifier = await createJwtAuthenticator(testIdentityConfig([testIssuerConfig(idp)]), { now });
    verifiers.push(verifier);
    const token = await idp.mint();
    const first = verifier.authenticate(token);
    expect(first).toBeInstanceOf(Promise);
    expect((await first).ok).toBe(true);
    const second = verifier.authenticate(token);
    expect(second).not.toBeInstanceOf(Promise);
    expect(second).toMatchObject({ ok: true });
  });

  it.each([
    { name: 'no skew: expired', clockSkewSeconds: 0, code: 'ERR_TOKEN_EXPIRED' },
    { name: 'within the skew: verified again', clockSkewSeconds: 30, code: 'ok' },
  ])('never serves a token at its exp ($name)', async ({ clockSkewSeconds, code }) => {
    const verify = await verifierWith({ clockSkewSeconds });
    const token = await idp.mint({ claims: { exp: T0 / 1000 + 60 } });
    expect(await verify(token)).toBe('ok');
    t = T0 + 59_999;
    expect(await verify(token)).toBe('ok');
    expect(jose).toHaveBeenCalledTimes(1);
    t = T0 + 60_000;
    expect(await verify(token)).toBe(code);
    expect(jose).toHaveBeenCalledTimes(2);
  });

  it.each([
    { name: 'disabled with size 0', tokenCacheSize: 0, calls: 2 },
    { name: 'enabled with size 1', tokenCacheSize: 1, calls: 1 },
  ])('is $name', async ({ tokenCacheSize, calls }) => {
    const verify = await verifierWith({ tokenCacheSize });
    const token = await idp.mint();
    await verify(token);
    await verify(token);
    expect(jose).toHaveBeenCalledTimes(calls);
  });

  it('does not cache failures', async () => {
    const verify = await verifierWith();
    const token = await idp.mint({ claims: { aud: 'other' } });
    expect([await verify(token), await verify(token)]).toEqual(['ERR_TOKEN_AUDIENCE', 'ERR_TOKEN_AUDIENCE']);
    expect(jose).toHaveBeenCalledTimes(2);
  });

  it('evicts a token not used since it was cached before one that was (second chance)', async () => {
    const verify = await verifierWith({ tokenCacheSize: 2 });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((sub) => idp.mint({ claims: { sub } })));
    for (const token of [a, b, a, c]) await verify(token as string); // c evicts b: a was used again
    expect(jose).toHaveBeenCalledTimes(3);
    await verify(a as string);
    await verify(c as string);
    expect(jose).toHaveBeenCalledTimes(3);
    await verify(b as string);
    expect(jose).toHaveBeenCalledTimes(4);
  });

  it('reports tokenHash as base64url of the first 16 bytes of sha256(signing input), verified or cached', async () => {
    const verifier = await createJwtAuthenticator(testIdentityConfig([testIssuerConfig(idp)]), { now });
    verifiers.push(verifier);
    const token = await idp.mint();
    const signingInput = token.slice(0, token.lastIndexOf('.'));
    const expected = createHash('sha256').update(signingInput).digest().subarray(0, 16).toString('base64url');
    for (const result of [await verifier.authenticate(token), await verifier.authenticate(token)]) {
      expect(result.ok ? result.value.tokenHash : result.code).toBe(expected);
    }
  });
});

describe('createTokenCache', () => {
  const identity = {
    kind: 'jwt' as const,
    source: 'i',
    attributes: {},
    issuer: 'https://i',
    subject: 's',
    groups: [],
    tokenHash: 'h',
    expiresAt: T0 / 1000 + 1,
  };
  it.each([
    { name: 'before exp', at: T0 + 999, hit: true },
    { name: 'at exp', at: T0 + 1000, hit: false },
    { name: 'after exp', at: T0 + 5000, hit: false },
  ])('returns an entry $name: $hit', ({ at, hit }) => {
    let clock = T0;
    const cache = createCredentialCache<JwtPrincipal>(4, () => clock);
    cache.set('k', identity);
    clock = at;
    expect(cache.get('k') !== undefined).toBe(hit);
    expect(cache.size).toBe(hit ? 1 : 0);
  });
});

describe('createTokenCache: bounded', () => {
  const identity = {
    kind: 'jwt' as const,
    source: 'i',
    attributes: {},
    issuer: 'https://i',
    subject: 's',
    groups: [],
    tokenHash: 'h',
    expiresAt: T0 / 1000 + 3600,
  };
  it('never holds more than its capacity, whatever is used', () => {
    const cache = createCredentialCache<JwtPrincipal>(8, () => T0);
    for (let i = 0; i < 1000; i++) {
      cache.set(`k${i}`, identity);
      if (i % 3 === 0) cache.get(`k${i - 1}`);
      expect(cache.size).toBeLessThanOrEqual(8);
    }
    expect(cache.get('k999')).toBeDefined();
  });
});

describe('createTokenCache: verifications are reused for a bounded time', () => {
  const identity = {
    kind: 'jwt' as const,
    source: 'i',
    attributes: {},
    issuer: 'https://i',
    subject: 's',
    groups: [],
    tokenHash: 'h',
    expiresAt: T0 / 1000 + 3600,
  };
  it.each([
    { name: 'just before max age', at: T0 + CREDENTIAL_CACHE_MAX_AGE_MS - 1, hit: true },
    { name: 'at max age (token still valid)', at: T0 + CREDENTIAL_CACHE_MAX_AGE_MS, hit: false },
  ])('$name', ({ at, hit }) => {
    let clock = T0;
    const cache = createCredentialCache<JwtPrincipal>(4, () => clock);
    cache.set('k', identity);
    clock = at;
    expect(cache.get('k') !== undefined).toBe(hit);
  });
});

describe('createTokenCache: hits and misses (the token cache metrics)', () => {
  const identity = {
    kind: 'jwt' as const,
    source: 'i',
    attributes: {},
    issuer: 'https://i',
    subject: 's',
    groups: [],
    tokenHash: 'h',
    expiresAt: T0 / 1000 + 1,
  };
  it.each([
    { name: 'a hit', capacity: 4, key: 'k', at: T0, counts: { hits: 1, misses: 0 } },
    { name: 'an unknown key', capacity: 4, key: 'other', at: T0, counts: { hits: 0, misses: 1 } },
    { name: 'an expired entry', capacity: 4, key: 'k', at: T0 + 1000, counts: { hits: 0, misses: 1 } },
    { name: 'caching disabled (capacity 0)', capacity: 0, key: 'k', at: T0, counts: { hits: 0, misses: 1 } },
  ])('$name counts as $counts', ({ capacity, key, at, counts }) => {
    let clock = T0;
    const cache = createCredentialCache<JwtPrincipal>(capacity, () => clock);
    cache.set('k', identity);
    clock = at;
    cache.get(key);
    expect({ hits: cache.hits, misses: cache.misses }).toEqual(counts);
  });
});
