import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCanonicalBase64url } from '../../../../src/identity/jwt/canonical-base64url.js';
import { createJwtAuthenticator, type JwtAuthenticator } from '../../../../src/identity/jwt/jwt-authenticator.js';
import { toTokenHash } from '../../../../src/identity/jwt/token-hash.js';
import { inspectToken } from '../../../../src/identity/jwt/token-shape.js';
import { conformanceDir } from '../../../helpers/conformance.js';
import { testIdentityConfig, testIssuerConfig } from '../../../helpers/jwt-config.js';
import { createTestIssuer, type TestIssuer, type TestKey } from '../../../helpers/jwt-issuer.js';
import { signRaw, withUnusedBits } from '../../../helpers/raw-jws.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** The plain definition: decode, re-encode, compare. */
const roundTrips = (s: string) => Buffer.from(s, 'base64url').toString('base64url') === s;

describe('isCanonicalBase64url agrees with decode, re-encode, compare', () => {
  const chars = [...ALPHABET, '=', '+', '/', ' ', '.', '\n', 'é', '\0'];

  it('on every string of up to 2 characters', () => {
    const strings = [''];
    for (const a of chars) {
      strings.push(a);
      for (const b of chars) strings.push(a + b);
    }
    for (const s of strings) expect([s, isCanonicalBase64url(s)]).toEqual([s, roundTrips(s)]);
  });

  it('on every last character after canonical prefixes of each length 0–11', () => {
    let checked = 0;
    for (let length = 0; length < 12; length++) {
      const prefix = Buffer.alloc(length, 0xa5).toString('base64url').slice(0, length);
      for (const last of chars) {
        const s = prefix + last;
        expect([s, isCanonicalBase64url(s)]).toEqual([s, roundTrips(s)]);
        checked += 1;
      }
    }
    expect(checked).toBe(12 * chars.length);
  });

  it('on seeded random byte strings, encoded and then altered at one position', () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 3000; i++) {
      const encoded = Buffer.from(Array.from({ length: random(40) }, () => random(256))).toString('base64url');
      expect(isCanonicalBase64url(encoded)).toBe(true);
      const at = random(encoded.length + 1);
      const altered = encoded.slice(0, at) + (chars[random(chars.length)] ?? '') + encoded.slice(at + random(2));
      expect([altered, isCanonicalBase64url(altered)]).toEqual([altered, roundTrips(altered)]);
    }
  });
});

// Wycheproof json_web_signature: payloads "AB" (0x00 with unused bits set); tc375's MAC is over that spelling.
describe('Wycheproof json_web_signature', () => {
  // Same lookup as the conformance suite (CONFORMANCE_DIR, ../shared beside the repo, /work/shared): a fresh clone elsewhere finds it too.
  const file = join(conformanceDir() ?? '/nonexistent', 'wycheproof/testvectors_v1/json_web_signature_test.json');
  const vectors = (JSON.parse(readFileSync(file, 'utf8')) as { testGroups: { tests: { tcId: number; jws: unknown; result: string }[] }[] }).testGroups.flatMap(
    (g) => g.tests,
  );
  it.each([374, 375])('tc%i is refused for its non-canonical payload', (tcId) => {
    const vector = vectors.find((t) => t.tcId === tcId);
    expect(vector?.result).toBe('invalid');
    const result = inspectToken(vector?.jws as string, 8192);
    expect(result.ok ? undefined : result.code).toBe('ERR_TOKEN_MALFORMED');
    if (!result.ok) expect(result.detail).toBe('the token payload is not canonical base64url (RFC 7515 §2, RFC 4648 §3.5)');
  });
});

describe('canonical tokens through the authenticator (really signed)', () => {
  const T0 = Date.parse('2030-01-01T00:00:00Z');
  const now = () => T0;
  let idp: TestIssuer;
  let authenticator: JwtAuthenticator;
  const claims = () => `"iss":"${idp.url}","aud":"callguard","iat":${T0 / 1000},"exp":${T0 / 1000 + 300}`;
  const headerOf = (key: TestKey) => `"alg":"${key.alg}","kid":"${key.kid}"`;
  /** What jose alone says: each refused token below would verify without callguard's checks. */
  const joseAccepts = async (token: string, key: TestKey) => (await jwtVerify(token, key.publicKey, { currentDate: new Date(T0) })).payload;
  /** The encoding of `text(pad)` for the shortest pad whose encoding ends with unused bits. */
  const withSpareBits = (text: (pad: string) => string) => {
    for (let pad = ''; ; pad += ' ') {
      const encoded = Buffer.from(text(pad)).toString('base64url');
      if (encoded.length % 4 >= 2) return encoded;
    }
  };
  const authenticate = async (token: string) => {
    const result = await authenticator.authenticate(token);
    return result.ok ? { code: 'ok', value: result.value } : { code: result.code, detail: result.detail };
  };

  beforeAll(async () => {
    idp = await createTestIssuer({ now });
    authenticator = await createJwtAuthenticator(testIdentityConfig([testIssuerConfig(idp)]), { now });
  });
  afterAll(async () => {
    authenticator?.close();
    await idp?.close();
  });

  describe.each(['rs256', 'es256'] as const)('%s', (which) => {
    const key = () => idp[which];

    it('a valid token still verifies, with tokenHash over its signing input', async () => {
      const token = await signRaw(key(), `{${headerOf(key())}}`, `{${claims()},"sub":"alice"}`);
      const [h, p] = token.split('.');
      const expected = createHash('sha256').update(`${h}.${p}`).digest().subarray(0, 16).toString('base64url');
      for (let call = 0; call < 2; call++) {
        const result = await authenticate(token); // verified, then from the cache
        expect(result.code).toBe('ok');
        expect(result.value?.subject).toBe('alice');
        expect(result.value?.tokenHash).toBe(expected);
      }
      expect(toTokenHash(`${h}.${p}`)).toBe(expected);
    });

    it.each([
      {
        name: 'alg none, then the real alg',
        header: (k: TestKey) => `{"alg":"none",${headerOf(k)}}`,
        body: (c: string) => `{${c},"sub":"alice"}`,
        part: 'the JOSE header',
      },
      { name: 'kid twice', header: (k: TestKey) => `{"kid":"other",${headerOf(k)}}`, body: (c: string) => `{${c},"sub":"alice"}`, part: 'the JOSE header' },
      { name: 'sub twice', header: (k: TestKey) => `{${headerOf(k)}}`, body: (c: string) => `{${c},"sub":"alice","sub":"admin"}`, part: 'the claims' },
      { name: 'exp twice', header: (k: TestKey) => `{${headerOf(k)}}`, body: (c: string) => `{"exp":1,${c},"sub":"alice"}`, part: 'the claims' },
      {
        name: 'groups twice',
        header: (k: TestKey) => `{${headerOf(k)}}`,
        body: (c: string) => `{${c},"sub":"alice","groups":["users"],"groups":["admins"]}`,
        part: 'the claims',
      },
      {
        name: 'a duplicate in a nested claim',
        header: (k: TestKey) => `{${headerOf(k)}}`,
        body: (c: string) => `{${c},"sub":"alice","realm_access":{"roles":["user"],"roles":["admin"]}}`,
        part: 'the claims',
      },
    ])('refuses $name as ERR_TOKEN_MALFORMED (jose alone would take the last)', async ({ header, body, part }) => {
      const token = await signRaw(key(), header(key()), body(claims()));
      await expect(joseAccepts(token, key())).resolves.toBeDefined();
      const result = await authenticate(token);
      expect(result.code).toBe('ERR_TOKEN_MALFORMED');
      expect(result.detail).toMatch(new RegExp(`^duplicate member name in ${part} `));
    });

    it('refuses the signature re-spelt with unused bits set (jose alone accepts it)', async () => {
      const token = await signRaw(key(), `{${headerOf(key())}}`, `{${claims()},"sub":"alice"}`);
      const [h, p, s] = token.split('.') as [string, string, string];
      const respelt = `${h}.${p}.${withUnusedBits(s)}`;
      await expect(joseAccepts(respelt, key())).resolves.toBeDefined();
      expect(await authenticate(respelt)).toEqual({
        code: 'ERR_TOKEN_MALFORMED',
        detail: 'the token signature is not canonical base64url (RFC 7515 §2, RFC 4648 §3.5)',
      });
    });

    it.each(['header', 'payload'] as const)('refuses a %s the issuer signed in a non-canonical spelling', async (segment) => {
      const h = withSpareBits((pad) => `{${headerOf(key())},"typ":"JWT${pad}"}`);
      const p = withSpareBits((pad) => `{${claims()},"sub":"alice${pad}"}`);
      const segments = segment === 'header' ? { header: withUnusedBits(h), payload: p } : { header: h, payload: withUnusedBits(p) };
      const token = await signRaw(key(), '', '', segments);
      await expect(joseAccepts(token, key())).resolves.toBeDefined();
      const result = await authenticate(token);
      expect(result.code).toBe('ERR_TOKEN_MALFORMED');
      expect(result.detail).toBe(`the token ${segment} is not canonical base64url (RFC 7515 §2, RFC 4648 §3.5)`);
    });
  });
});
