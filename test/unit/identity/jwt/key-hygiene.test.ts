import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importJWK, type JWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, type ConfigProblem } from '../../../../src/errors.js';
import { createJwtAuthenticator, type JwtAuthenticator } from '../../../../src/identity/jwt/jwt-authenticator.js';
import { checkHmacSecret, checkJwk } from '../../../../src/identity/jwt/key-hygiene.js';
import { hasRocaFingerprint, rocaPrints } from '../../../../src/identity/jwt/roca-fingerprint.js';
import { type IssuerOverrides, testIdentityConfig, testIssuerConfig } from '../../../helpers/jwt-config.js';
import { createEventRecorder } from '../../../helpers/jwt-events.js';
import { createTestIssuer, type TestIssuer, type TestKey } from '../../../helpers/jwt-issuer.js';

// ROCA test moduli of the public detector, crocs-muni/roca `roca/tests/data` (MIT): mod01 (512 bits) and
// mod03 (2048 bits) are RSALib moduli; `fakeMod` is the first of `test_fake_mods` in test_fingerprint.py,
// built to pass the per-prime test but not the discrete-log one.
const MOD01 = '944e13208a280c37efc31c3114485e590192adbb8e11c87cad60cdef0037ce99278330d3f471a2538fa667802ed2a3c44a8b7dea826e888d0aa341fd664f7fa7';
const MOD03 =
  '9dcd7420e420c270a68060eb8b5aa7457a9f6648f86fafed2775cc1f79ae962f1e63f1b9e51c55f9ea6fdc7332e9b0058c9ff2eb1fc89855029cf6aafe21e689feb38ac9ffb12f1ce371bb5d0e9aae64161abce74b4244bf68f1edb4411f756a097c8929c14740245ea355f8332d1aa36bb50c7dcb4505da8de02e4e53d38f8df06097da7524df0df93db48eac8cc4af2d3a16257eb2b2adca6ba464e5974fa92550d31b1babf161e7692d00b86e3dd886ecab4abfbe1a8f8cc263ff4af55cdb45f4249a5193925f5e983d762f0b6800943eb0267b08f42ed311ce1f5c86eacbc8ce4d3cb7a2fee1ef5641423a1cf4114e5ecf50034a60a412523af9e6f4aa11';
const FAKE_MOD =
  72414128973967872688332736535017614208620368242015797102796086827882754006260204061799547004983731426777596445658889886861027045033760014948048067467947960318205453778973975867532910489227970143091184725760290172935872752222320334100097730483600892686353719855397381316384244147860260153198611313067061116317n;
/** The detector's `prints` table (roca/detect.py, `RocaFingerprinter.__init__`): the first twelve and the last. */
const DETECTOR_PRINTS: Record<number, bigint> = {
  3: 6n,
  5: 30n,
  7: 126n,
  11: 1026n,
  13: 5658n,
  17: 107286n,
  19: 199410n,
  23: 8388606n,
  29: 536870910n,
  31: 2147483646n,
  37: 67109890n,
  41: 2199023255550n,
  167: 187072209578355573530071658587684226515959365500926n,
};

const b64 = (hex: string) => Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex').toString('base64url');
const exported = (key: { export(options: { format: 'jwk' }): JsonWebKey }) => key.export({ format: 'jwk' }) as Record<string, unknown>;

let rsa: Record<string, unknown>;
let rsaE3: { publicJwk: Record<string, unknown>; privateJwk: Record<string, unknown> };
let rsa1024: Record<string, unknown>;
const ec: Record<string, Record<string, unknown>> = {};
let ed25519: Record<string, unknown>;
let ed448: Record<string, unknown>;
let x25519: Record<string, unknown>;

beforeAll(() => {
  rsa = exported(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey);
  const weak = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 });
  rsaE3 = { publicJwk: exported(weak.publicKey), privateJwk: exported(weak.privateKey) };
  rsa1024 = exported(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey);
  for (const namedCurve of ['P-256', 'P-384', 'P-521', 'secp256k1']) ec[namedCurve] = exported(generateKeyPairSync('ec', { namedCurve }).publicKey);
  ed25519 = exported(generateKeyPairSync('ed25519').publicKey);
  ed448 = exported(generateKeyPairSync('ed448').publicKey);
  x25519 = exported(generateKeyPairSync('x25519').publicKey);
});

/** Flips one bit of `y`, keeping its length: the point leaves the curve. */
function offCurve(jwk: Record<string, unknown>): Record<string, unknown> {
  const y = Buffer.from(String(jwk['y']), 'base64url');
  y[y.length - 1] = (y[y.length - 1] ?? 0) ^ 1;
  return { ...jwk, y: y.toString('base64url') };
}

describe('checkJwk', () => {
  it.each([
    { name: 'not an object', jwk: () => 'key', reason: /not a JSON object/ },
    { name: 'no kty', jwk: () => ({ n: rsa['n'], e: 'AQAB' }), reason: /no "kty"/ },
    { name: 'an oct key (a secret in a public set)', jwk: () => ({ kty: 'oct', k: 'AAAA' }), reason: /not a public key: a symmetric \("oct"\) key/ },
    { name: 'an RSA private key', jwk: () => ({ ...rsaE3.privateJwk, e: 'AQAB' }), reason: /private members "d", "p", "q", "dp", "dq", "qi"/ },
    { name: 'an EC key with "d"', jwk: () => ({ ...ec['P-256'], d: 'AAAA' }), reason: /private member "d"/ },
    { name: 'an unknown kty', jwk: () => ({ kty: 'AKP', alg: 'ML-DSA-44' }), reason: /key type "AKP" is not RSA, EC or OKP/ },
    { name: 'use "enc"', jwk: () => ({ ...rsa, use: 'enc' }), reason: /"use" is "enc"/ },
    { name: 'key_ops without "verify"', jwk: () => ({ ...rsa, key_ops: ['encrypt'] }), reason: /"key_ops" does not include "verify"/ },
    { name: 'an RSA key with alg ES256', jwk: () => ({ ...rsa, alg: 'ES256' }), reason: /"alg" "ES256" is not a signature algorithm for RSA keys/ },
    { name: 'an RSA encryption alg', jwk: () => ({ ...rsa, alg: 'RSA-OAEP' }), reason: /"alg" "RSA-OAEP" is not a signature algorithm/ },
    { name: 'an RSA modulus of 1024 bits', jwk: () => rsa1024, reason: /RSA modulus has 1024 bits; at least 2048/ },
    { name: 'an RSA modulus of 16400 bits', jwk: () => ({ kty: 'RSA', n: b64(`f${'0'.repeat(4098)}1`), e: 'AQAB' }), reason: /16400 bits; at most 16384/ },
    { name: 'RSA e = 1', jwk: () => ({ ...rsa, e: 'AQ' }), reason: /exponent 1 is below 65537/ },
    { name: 'RSA e = 3', jwk: () => rsaE3.publicJwk, reason: /exponent 3 is below 65537/ },
    { name: 'RSA e even', jwk: () => ({ ...rsa, e: b64('010000') }), reason: /exponent is even/ },
    { name: 'RSA e = 65535', jwk: () => ({ ...rsa, e: b64('ffff') }), reason: /exponent 65535 is below 65537/ },
    { name: 'RSA n not base64url', jwk: () => ({ ...rsa, n: 'a+b/' }), reason: /without a base64url "n" and "e"/ },
    { name: 'a ROCA modulus (detector mod03)', jwk: () => ({ kty: 'RSA', n: b64(MOD03), e: 'AQAB' }), reason: /ROCA fingerprint \(CVE-2017-15361\)/ },
    { name: 'EC secp256k1', jwk: () => ec['secp256k1'], reason: /EC curve "secp256k1" is not P-256, P-384 or P-521/ },
    { name: 'EC P-384 with alg ES256', jwk: () => ({ ...ec['P-384'], alg: 'ES256' }), reason: /on P-384 cannot be used with ES256 \(RFC 7518 §3.4: ES384\)/ },
    { name: 'EC P-256 with alg ES521', jwk: () => ({ ...ec['P-256'], alg: 'ES521' }), reason: /"alg" "ES521" is not a signature algorithm for EC keys/ },
    { name: 'EC P-256 with a short x', jwk: () => ({ ...ec['P-256'], x: b64('00') }), reason: /without 32-byte "x" and "y"/ },
    { name: 'EC P-256 point off the curve', jwk: () => offCurve(ec['P-256'] ?? {}), reason: /point is not on the curve/ },
    { name: 'EC P-521 point off the curve', jwk: () => offCurve(ec['P-521'] ?? {}), reason: /point is not on the curve/ },
    { name: 'OKP Ed448', jwk: () => ed448, reason: /OKP curve "Ed448" is not Ed25519/ },
    { name: 'OKP X25519 (key agreement)', jwk: () => x25519, reason: /OKP curve "X25519" is not Ed25519/ },
    { name: 'Ed25519 with a short x', jwk: () => ({ ...ed25519, x: b64('00') }), reason: /without a 32-byte "x"/ },
    { name: 'a long hostile crv, quoted short', jwk: () => ({ kty: 'EC', crv: `P-256\n${'x'.repeat(500)}` }), reason: /^EC curve "P-256\\nx{29}\.\.\. is not/ },
  ])('refuses $name', ({ jwk, reason }) => {
    const check = checkJwk(jwk());
    expect(check.ok).toBe(false);
    expect(check.ok ? '' : check.reason).toMatch(reason);
  });

  it.each([
    { name: 'RSA 2048, e = 65537', jwk: () => rsa },
    { name: 'RSA with alg PS512, use sig, key_ops verify', jwk: () => ({ ...rsa, alg: 'PS512', use: 'sig', key_ops: ['verify'] }) },
    { name: 'EC P-256 with ES256', jwk: () => ({ ...ec['P-256'], alg: 'ES256' }) },
    { name: 'EC P-384', jwk: () => ec['P-384'] },
    { name: 'EC P-521 with ES512', jwk: () => ({ ...ec['P-521'], alg: 'ES512' }) },
    { name: 'Ed25519 with EdDSA', jwk: () => ({ ...ed25519, alg: 'EdDSA' }) },
    { name: 'a mod03 neighbour (top nibble 9 → 8: detector mod06)', jwk: () => ({ kty: 'RSA', n: b64(`8${MOD03.slice(1)}`), e: 'AQAB' }) },
  ])('accepts $name', ({ jwk }) => {
    expect(checkJwk(jwk())).toEqual({ ok: true });
  });

  it.each([
    { name: 'P-256 for ES384', jwk: () => ec['P-256'], alg: 'ES384', reason: /cannot be used with ES384/ },
    { name: 'RSA for HS256', jwk: () => rsa, alg: 'HS256', reason: /cannot be used with "HS256"/ },
    { name: 'an RS256 key for PS256', jwk: () => ({ ...rsa, alg: 'RS256' }), alg: 'PS256', reason: /cannot be used with "PS256"/ },
  ])('refuses $name when the use names the algorithm', ({ jwk, alg, reason }) => {
    const check = checkJwk(jwk(), { alg });
    expect(check.ok ? '' : check.reason).toMatch(reason);
  });
});

describe('hasRocaFingerprint', () => {
  it("derives the detector's prints table from 65537", () => {
    const derived = Object.fromEntries(rocaPrints().map(({ prime, print }) => [prime, print]));
    for (const [prime, print] of Object.entries(DETECTOR_PRINTS)) expect(derived[prime], `prime ${prime}`).toBe(print);
    expect(rocaPrints()).toHaveLength(38);
  });

  it.each([
    { name: 'detector mod01 (512 bits)', n: BigInt(`0x${MOD01}`), expected: true },
    { name: 'detector mod03 (2048 bits)', n: BigInt(`0x${MOD03}`), expected: true },
    { name: 'mod03 with its top nibble changed (detector mod06)', n: BigInt(`0x8${MOD03.slice(1)}`), expected: false },
    { name: 'a fake: in every subgroup, but no power of 65537 mod the primorial', n: FAKE_MOD, expected: false },
    { name: 'a fresh RSA modulus', n: 0n, expected: false },
  ])('$name → $expected', ({ n, expected }) => {
    const modulus = n === 0n ? BigInt(`0x${Buffer.from(String(rsa['n']), 'base64url').toString('hex')}`) : n;
    expect(hasRocaFingerprint(modulus)).toBe(expected);
  });

  it('flags the fake with the per-prime test alone (so the discrete-log step is what clears it)', () => {
    const perPrime = rocaPrints().every(({ prime, print }) => ((print >> (FAKE_MOD % BigInt(prime))) & 1n) === 1n);
    expect(perPrime).toBe(true);
  });
});

describe('checkHmacSecret (RFC 7518 §3.2)', () => {
  it.each([
    { name: 'HS256, 31 bytes', alg: 'HS256', bytes: 31, ok: false },
    { name: 'HS256, 32 bytes', alg: 'HS256', bytes: 32, ok: true },
    { name: 'HS384, 47 bytes', alg: 'HS384', bytes: 47, ok: false },
    { name: 'HS384, 48 bytes', alg: 'HS384', bytes: 48, ok: true },
    { name: 'HS512, 63 bytes', alg: 'HS512', bytes: 63, ok: false },
    { name: 'HS512, 64 bytes', alg: 'HS512', bytes: 64, ok: true },
    { name: 'an empty secret', alg: 'HS256', bytes: 0, ok: false },
    { name: 'RS256 (not HMAC)', alg: 'RS256', bytes: 64, ok: false },
  ])('$name → ok: $ok', ({ alg, bytes, ok }) => {
    expect(checkHmacSecret(new Uint8Array(bytes), alg).ok).toBe(ok);
  });
});

describe('at load: a bad key or short secret is a config problem naming the file, the key and the reason', () => {
  let dir: string;
  const file = (name: string) => join(dir, name);
  const CONFIG = '/etc/callguard.yaml';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'callguard-hygiene-'));
    const secret = (bytes: number) => `${'s'.repeat(bytes)}\n`;
    await Promise.all([
      writeFile(file('47.secret'), secret(47)),
      writeFile(file('48.secret'), secret(48)),
      writeFile(file('63.secret'), secret(63)),
      writeFile(file('64.secret'), secret(64)),
      writeFile(file('one-bad.json'), JSON.stringify({ keys: [{ ...rsa, kid: 'good' }, { ...rsaE3.publicJwk, kid: 'weak' }, ec['P-256']] })),
      writeFile(file('two-bad.json'), JSON.stringify({ keys: [{ ...rsa1024, kid: 'short' }, rsa, offCurve(ec['P-384'] ?? {})] })),
    ]);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function problemsOf(overrides: IssuerOverrides): Promise<ConfigProblem[]> {
    try {
      (await createJwtAuthenticator(testIdentityConfig([testIssuerConfig(undefined, overrides)]), { configFile: CONFIG })).close();
      return [];
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return [...error.problems];
    }
  }

  it.each([
    {
      name: 'a 47-byte secret for HS384',
      secret: '47.secret',
      algorithms: ['HS384'],
      message: /^the HMAC secret has 47 bytes; at least 48 are required for HS384 \(RFC 7518 §3.2\); it is long enough only for HS256$/,
    },
    {
      name: 'a 63-byte secret for HS512',
      secret: '63.secret',
      algorithms: ['HS512'],
      message: /63 bytes; at least 64 are required for HS512.*only for HS256, HS384$/,
    },
    {
      name: 'a 48-byte secret for HS256 and HS512',
      secret: '48.secret',
      algorithms: ['HS512', 'HS256'],
      message: /48 bytes; at least 64 are required for HS512/,
    },
  ] as const)('refuses $name', async ({ secret, algorithms, message }) => {
    expect(await problemsOf({ algorithms: [...algorithms], hmacSecretFile: file(secret) })).toEqual([
      { file: file(secret), path: '/identity/issuers/0/hmacSecretFile', message: expect.stringMatching(message) },
    ]);
  });

  it.each([
    { name: 'a 48-byte secret for HS384', secret: '48.secret', algorithms: ['HS256', 'HS384'] },
    { name: 'a 64-byte secret for every HS*', secret: '64.secret', algorithms: ['HS256', 'HS384', 'HS512'] },
  ] as const)('accepts $name', async ({ secret, algorithms }) => {
    expect(await problemsOf({ algorithms: [...algorithms], hmacSecretFile: file(secret) })).toEqual([]);
  });

  it.each([
    {
      name: 'one weak key among good ones',
      jwks: 'one-bad.json',
      message: /^not a usable JWKS: refused keys\[1\] \(kid "weak"\): RSA public exponent 3 is below 65537$/,
    },
    {
      name: 'two bad keys, all named at once',
      jwks: 'two-bad.json',
      message: /^not a usable JWKS: refused keys\[0\] \(kid "short"\): RSA modulus has 1024 bits.*; keys\[2\]: the key does not import .*not on the curve/,
    },
  ])('refuses a jwksFile with $name', async ({ jwks, message }) => {
    expect(await problemsOf({ jwksFile: file(jwks) })).toEqual([
      { file: file(jwks), path: '/identity/issuers/0/jwksFile', message: expect.stringMatching(message) },
    ]);
  });
});

describe('at every remote refresh: a bad key is dropped with a warning, the rest keeps working', () => {
  const T0 = Date.parse('2030-01-01T00:00:00Z');
  let t = T0;
  let idp: TestIssuer;
  let verifier: JwtAuthenticator | undefined;
  let weak: TestKey;

  beforeAll(async () => {
    idp = await createTestIssuer({ now: () => t });
    const { publicJwk, privateJwk } = rsaE3;
    const jwk = { ...publicJwk, kid: 'weak-e3', alg: 'RS256', use: 'sig' } as JWK;
    weak = {
      alg: 'RS256',
      kid: 'weak-e3',
      publicJwk: jwk,
      privateKey: (await importJWK({ ...privateJwk, alg: 'RS256' } as JWK, 'RS256')) as never,
      publicKey: undefined as never,
      spkiPem: '',
    };
  });
  afterEach(() => verifier?.close());
  afterAll(() => idp.close());

  async function start() {
    t = T0;
    const recorder = createEventRecorder();
    verifier = await createJwtAuthenticator(testIdentityConfig([testIssuerConfig(idp)], { tokenCacheSize: 0 }), { now: () => t, onEvent: recorder.onEvent });
    const check = async (key: TestKey) => {
      const result = await (verifier as JwtAuthenticator).authenticate(await idp.mint({ key }));
      return result.ok ? 'ok' : result.code;
    };
    return { recorder, check };
  }

  it('drops a weak key in the first fetch and serves the others', async () => {
    idp.publish(idp.rs256, weak, idp.es256);
    const { recorder, check } = await start();
    expect(recorder.events.filter((e) => e.level === 'warn')).toEqual([
      { level: 'warn', issuer: 'test', msg: 'signing keys dropped: keys[1] (kid "weak-e3"): RSA public exponent 3 is below 65537' },
    ]);
    expect([await check(idp.rs256), await check(idp.es256), await check(weak)]).toEqual(['ok', 'ok', 'ERR_TOKEN_KEY_UNKNOWN']);
  });

  it('drops a weak key that a later refresh brings, and keeps serving the good ones', async () => {
    idp.publish(idp.rs256, idp.es256);
    const { recorder, check } = await start();
    expect(recorder.events.some((e) => e.level === 'warn')).toBe(false);
    idp.publish(weak, idp.rs256, idp.es256);
    t += 301_000; // past refreshSeconds: the next lookup refreshes in the background
    const dropped = recorder.next('warn');
    expect(await check(idp.rs256)).toBe('ok');
    expect((await dropped).msg).toBe('signing keys dropped: keys[0] (kid "weak-e3"): RSA public exponent 3 is below 65537');
    expect([await check(idp.es256), await check(weak)]).toEqual(['ok', 'ERR_TOKEN_KEY_UNKNOWN']);
  });

  it('drops a private key, rather than failing the whole fetch', async () => {
    idp.publish(idp.rs256, { ...weak, publicJwk: { ...rsaE3.privateJwk, kid: 'leaked' } as JWK });
    const { recorder, check } = await start();
    expect(recorder.events.find((e) => e.level === 'warn')?.msg).toMatch(
      /^signing keys dropped: keys\[1\] \(kid "leaked"\): not a public key: it has the private members "d"/,
    );
    expect(await check(idp.rs256)).toBe('ok');
  });
});
