import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJwtAuthenticator, type JwtAuthenticator } from '../../../../src/identity/jwt/jwt-authenticator.js';
import { testIdentityConfig, testIssuerConfig } from '../../../helpers/jwt-config.js';
import { createTestIssuer, forgeToken, type MintOptions, type TestIssuer } from '../../../helpers/jwt-issuer.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const now = () => T0;
const S = T0 / 1000;
const SECRET = new TextEncoder().encode('a-shared-secret-of-at-least-32-bytes!');

let idp: TestIssuer;
let verifier: JwtAuthenticator;
let dir: string;
/** Issuer identifiers: `main` allows RS256+ES256, `rsOnly` RS256, `mixed` RS256+HS256 with a real secret. */
let iss: { main: string; rsOnly: string; mixed: string };

beforeAll(async () => {
  idp = await createTestIssuer({ now });
  dir = await mkdtemp(join(tmpdir(), 'callguard-jwt-'));
  const secretFile = join(dir, 'hmac.secret');
  await writeFile(secretFile, `${Buffer.from(SECRET).toString()}\n`);
  iss = { main: idp.url, rsOnly: `${idp.url}/rs-only`, mixed: `${idp.url}/mixed` };
  verifier = await createJwtAuthenticator(
    testIdentityConfig([
      testIssuerConfig(idp, { name: 'main' }),
      testIssuerConfig(idp, { name: 'rs-only', issuer: iss.rsOnly, algorithms: ['RS256'] }),
      testIssuerConfig(idp, { name: 'mixed', issuer: iss.mixed, algorithms: ['RS256', 'HS256'], hmacSecretFile: secretFile }),
    ]),
    { now },
  );
});

afterAll(async () => {
  verifier?.close();
  await idp?.close();
  await rm(dir, { recursive: true, force: true });
});

type Case = { name: string; mint: () => MintOptions | string; code?: string };
const claims = (c: Record<string, unknown>): MintOptions => ({ claims: c });

describe('createJwtAuthenticator: claims and algorithms', () => {
  it.each<Case>([
    { name: 'valid RS256', mint: () => ({ key: idp.rs256 }) },
    { name: 'valid ES256', mint: () => ({ key: idp.es256 }) },
    { name: 'valid HS256 with the configured secret', mint: () => ({ key: SECRET, claims: { iss: iss.mixed } }) },
    { name: 'exp just inside the skew', mint: () => claims({ exp: S - 29 }) },
    { name: 'nbf just inside the skew', mint: () => claims({ nbf: S + 29 }) },
    { name: 'iat just inside the skew', mint: () => claims({ iat: S + 29 }) },
    { name: 'aud array naming us', mint: () => claims({ aud: ['other', 'callguard'] }) },
    { name: 'no iat at all', mint: () => claims({ iat: undefined }) },
  ])('accepts $name', async ({ mint }) => {
    const options = mint();
    const token = typeof options === 'string' ? options : await idp.mint(options);
    const result = await verifier.authenticate(token);
    expect(result.ok ? 'ok' : `${result.code}: ${result.detail}`).toBe('ok');
  });

  it.each<Case>([
    { name: 'expired beyond the skew', mint: () => claims({ exp: S - 31 }), code: 'ERR_TOKEN_EXPIRED' },
    { name: 'expired exactly at the skew', mint: () => claims({ exp: S - 30 }), code: 'ERR_TOKEN_EXPIRED' },
    { name: 'nbf in the future', mint: () => claims({ nbf: S + 31 }), code: 'ERR_TOKEN_NOT_YET_VALID' },
    { name: 'iat in the future', mint: () => claims({ iat: S + 31 }), code: 'ERR_TOKEN_NOT_YET_VALID' },
    { name: 'wrong audience', mint: () => claims({ aud: 'someone-else' }), code: 'ERR_TOKEN_AUDIENCE' },
    { name: 'no audience', mint: () => claims({ aud: undefined }), code: 'ERR_TOKEN_AUDIENCE' },
    { name: 'unknown issuer', mint: () => claims({ iss: 'https://evil.test' }), code: 'ERR_TOKEN_ISSUER' },
    { name: 'issuer differing by a trailing slash', mint: () => claims({ iss: `${idp.url}/` }), code: 'ERR_TOKEN_ISSUER' },
    { name: 'missing exp', mint: () => claims({ exp: undefined }), code: 'ERR_TOKEN_CLAIMS' },
    { name: 'missing sub', mint: () => claims({ sub: undefined }), code: 'ERR_TOKEN_CLAIMS' },
    { name: 'sub not a string', mint: () => claims({ sub: 42 }), code: 'ERR_TOKEN_CLAIMS' },
    { name: 'exp not a number', mint: () => claims({ exp: String(S + 60) }), code: 'ERR_TOKEN_CLAIMS' },
    { name: 'alg none', mint: () => forgeToken({ alg: 'none' }, { iss: idp.url, sub: 'u', aud: 'callguard', exp: S + 60 }, ''), code: 'ERR_TOKEN_ALGORITHM' },
    { name: 'alg none with a signature', mint: () => forgeToken({ alg: 'none' }, { iss: idp.url, sub: 'u', exp: S + 60 }), code: 'ERR_TOKEN_ALGORITHM' },
    { name: 'alg not allowed for the issuer', mint: () => ({ key: idp.es256, claims: { iss: iss.rsOnly } }), code: 'ERR_TOKEN_ALGORITHM' },
    { name: 'alg unknown', mint: () => forgeToken({ alg: 'XS999' }, { iss: idp.url, sub: 'u', exp: S + 60 }), code: 'ERR_TOKEN_ALGORITHM' },
    { name: 'HS256 with no secret configured', mint: () => ({ key: SECRET }), code: 'ERR_TOKEN_ALGORITHM' },
    { name: 'HS256 keyed with the RSA PEM, issuer RS256-only', mint: () => ({ key: pem(), claims: { iss: iss.rsOnly } }), code: 'ERR_TOKEN_ALGORITHM' },
    { name: 'HS256 keyed with the RSA PEM, issuer RS256+HS256', mint: () => ({ key: pem(), claims: { iss: iss.mixed } }), code: 'ERR_TOKEN_SIGNATURE' },
    { name: 'HS256 keyed with the RSA JWK, issuer RS256+HS256', mint: () => ({ key: jwkBytes(), claims: { iss: iss.mixed } }), code: 'ERR_TOKEN_SIGNATURE' },
    { name: 'ES256 token naming the RS256 key kid', mint: () => ({ key: { ...idp.es256, kid: idp.rs256.kid }, alg: 'ES256' }), code: 'ERR_TOKEN_KEY_UNKNOWN' },
  ])('rejects $name as $code', async ({ mint, code }) => {
    const options = mint();
    const token = typeof options === 'string' ? options : await idp.mint(options);
    const result = await verifier.authenticate(token);
    expect(result.ok ? 'ok' : result.code).toBe(code);
    if (!result.ok) {
      expect(result.detail).not.toContain(token);
      expect(result.detail).not.toContain('someone-else');
      expect(result.detail).not.toContain('evil');
    }
  });

  it('rejects a token whose signature belongs to another token as ERR_TOKEN_SIGNATURE', async () => {
    const [a, b] = await Promise.all([idp.mint(), idp.mint({ claims: { sub: 'admin' } })]);
    const spliced = `${b.split('.').slice(0, 2).join('.')}.${a.split('.')[2]}`;
    const result = await verifier.authenticate(spliced);
    expect(result.ok ? 'ok' : result.code).toBe('ERR_TOKEN_SIGNATURE');
  });

  it('returns the verified identity', async () => {
    const token = await idp.mint({ claims: { sub: 'alice', jti: 'id-1', groups: ['ops', 'dev'] } });
    const result = await verifier.authenticate(token);
    expect(result.ok ? result.value : result.code).toEqual({
      kind: 'jwt',
      source: 'main',
      attributes: expect.objectContaining({ sub: 'alice', jti: 'id-1', groups: ['ops', 'dev'] }),
      issuer: idp.url,
      subject: 'alice',
      groups: ['ops', 'dev'],
      jti: 'id-1',
      tokenHash: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      expiresAt: S + 300,
    });
  });
});

function pem(): Uint8Array {
  return new TextEncoder().encode(idp.rs256.spkiPem);
}
function jwkBytes(): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(idp.rs256.publicJwk));
}
