/**
 * Wycheproof's JOSE vectors (C2SP/wycheproof, see ../shared/conformance/README.md) through callguard's
 * real key loading and verification. Each group's key set becomes what an operator would configure:
 * - a set of exactly one `oct` key meant for HMAC (`alg` HS* or none) → `hmacSecretFile` (its raw bytes),
 *   the issuer allowing that one algorithm;
 * - any other set → a `jwksFile` holding the set as published (`public` where the group has one), the
 *   issuer allowing the algorithms its keys name (else the one their type implies).
 * Two paths, each vector through both:
 * - JWT path: `createJwtAuthenticator(config).authenticate(jws)`, the production path end to end. No
 *   vector is a JWT (payloads are "foo", bytes, or empty), so every one ends at the claims at the latest;
 *   the path still shows each key set refused at load, and a JWT signed with each group's own key
 *   (minted here; for `e = 1` forged without the private key, as in the issue) shows what the keys allow.
 * - signature path, for the non-JWT payloads: the same loaders (`loadJwksFile`, `readHmacSecret`, so the
 *   same key hygiene), the issuer's algorithm list and HMAC/public-key separation (as `issuer-verifier`),
 *   callguard's token-shape rules on the header and signature segments (`inspectToken`, the payload
 *   swapped for a JWT one; the payload segment is held to the signature segment's rules, those of a
 *   segment that is not JSON), then jose's `compactVerify`.
 * JWE vectors (json_web_crypto jwe_*) go through the JWT path only: callguard accepts compact JWS only.
 */
import { constants, createHash, createHmac, createPrivateKey, type KeyObject, sign } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CryptoKey, compactVerify, errors, type FlattenedJWSInput, type JWSHeaderParameters } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isHmacAlgorithm } from '../../src/config/check-issuers.js';
import type { IssuerConfig, JwtAlgorithm } from '../../src/config/types.js';
import { CallguardError, ConfigError } from '../../src/errors.js';
import { readHmacSecret } from '../../src/identity/jwt/hmac-secret.js';
import { createJwtAuthenticator, type JwtAuthenticator } from '../../src/identity/jwt/jwt-authenticator.js';
import { type KeySet, loadJwksFile } from '../../src/identity/jwt/key-set.js';
import { toReason } from '../../src/identity/jwt/to-reason.js';
import { inspectToken } from '../../src/identity/jwt/token-shape.js';
import { conformanceDir, readWycheproofJose, testMissingConformanceData, type WycheproofJoseGroup, type WycheproofJoseTest } from '../helpers/conformance.js';
import { testIdentityConfig, testIssuerConfig } from '../helpers/jwt-config.js';

const FILES = ['json_web_key_test.json', 'json_web_signature_test.json', 'json_web_crypto_test.json'] as const;
const ISSUER = 'https://wycheproof.test';
const CONFIG = '/etc/callguard.yaml';
const NOW = Date.parse('2030-01-01T00:00:00Z');
const MAX_TOKEN_BYTES = 8192;

/** A documented refusal: why, and what the refusal must say. */
interface Listed {
  readonly why: string;
  readonly refusal: RegExp;
}

const TWO_SECRETS: Listed = {
  why: 'a set of two HS256 secrets: callguard takes one secret per issuer (hmacSecretFile), and a JWKS is public',
  refusal: /symmetric \("oct"\) key/,
};
const ES521: Listed = {
  why: 'the key says alg "ES521", which is no algorithm (RFC 7518 §3.1: ES512): refused at load',
  refusal: /"alg" "ES521" is not a signature algorithm/,
};
const PS384_WITH_A_PS256_KEY: Listed = {
  why: 'RFC 7520 Figure 20 is PS384, the key (alg added by Wycheproof) says PS256: the issuer allows PS256 (RFC 7517 §4.4)',
  refusal: /ERR_TOKEN_ALGORITHM/,
};
const NOT_BASE64URL: Listed = {
  why: 'a "?" inside a segment: not base64url (RFC 7515 §2); callguard allows one spelling per token',
  refusal: /not canonical base64url|not three base64url segments/,
};

/** `valid` vectors the signature path refuses, by `<file> tc<id>` (file without `json_web_` and `_test.json`). */
const VALID_BUT_REFUSED: Readonly<Record<string, Listed>> = {
  'key tc2': TWO_SECRETS,
  'crypto tc48': TWO_SECRETS,
  'signature tc346': PS384_WITH_A_PS256_KEY,
  'signature tc350': PS384_WITH_A_PS256_KEY,
  'signature tc347': ES521,
  'signature tc351': ES521,
  'signature tc372': NOT_BASE64URL,
  'signature tc373': NOT_BASE64URL,
};

/** Groups with a `valid` vector whose key set callguard refuses at load. */
const KEY_SET_REFUSED_BY_DESIGN: Readonly<Record<string, Listed>> = {
  'key tc2-3 jws_keyset': TWO_SECRETS,
  'crypto tc48-49 jws_keyset': TWO_SECRETS,
  'signature tc347 rfc7520': ES521,
  'signature tc351 rfc7520WithKeyOps': ES521,
};

/**
 * `invalid` vectors that may still verify through the signature path because the rule that refuses
 * them belongs to token-shape.ts (canonical base64url, issue 10 item 1), being fixed separately.
 */
const EXPECTED_TO_BE_FIXED_BY_CANONICAL_TOKENS: ReadonlySet<string> = new Set([]);

/**
 * `invalid` vectors whose token is byte for byte a `valid` vector's with the same keys (tc367
 * "invalidBase64Padding" and tc370 "invalidBase64PaddingInPayload" equal tc357 "ValidMac": the padding
 * they were about is not in the file). No verifier can refuse one and accept the other; found by
 * comparison, and the test checks the list is exactly this.
 */
const CONTRADICTED_BY_A_VALID_VECTOR: readonly string[] = ['signature tc367', 'signature tc370'];

type Outcome = { readonly verified: true } | { readonly verified: false; readonly reason: string };
const VERIFIED: Outcome = { verified: true };
const refused = (reason: string): Outcome => ({ verified: false, reason });

interface Vector {
  readonly id: string;
  readonly setup: Setup;
  readonly test: WycheproofJoseTest;
  /** The token as it would arrive after `Bearer `: a JSON serialization arrives as its JSON text. */
  readonly token: string;
  readonly jwe: boolean;
}

interface Setup {
  readonly label: string;
  readonly group: WycheproofJoseGroup;
  readonly issuer: IssuerConfig;
  readonly source: 'hmacSecretFile' | 'jwksFile';
}

const JWT_ALGORITHMS: readonly string[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'HS256', 'HS384', 'HS512'];
const CURVE_ALGORITHMS: Readonly<Record<string, JwtAlgorithm>> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512', Ed25519: 'EdDSA' };

/** The algorithm an operator would configure for a key: its `alg` if callguard has it, else what its type implies. */
function algorithmFor(jwk: Readonly<Record<string, unknown>>): JwtAlgorithm | undefined {
  if (typeof jwk['alg'] === 'string' && JWT_ALGORITHMS.includes(jwk['alg'])) return jwk['alg'] as JwtAlgorithm;
  if (jwk['kty'] === 'RSA') return 'RS256';
  if (jwk['kty'] === 'oct') return 'HS256';
  return typeof jwk['crv'] === 'string' ? CURVE_ALGORITHMS[jwk['crv']] : undefined;
}

const keysOf = (set: WycheproofJoseGroup['private']): readonly Record<string, unknown>[] => set.keys ?? [set];
const shortName = (file: string) => file.replace(/^json_web_|_test\.json$/g, '');

let dir: string;

async function createSetup(file: string, index: number, group: WycheproofJoseGroup): Promise<Setup> {
  const ids = group.tests.map((test) => test.tcId);
  const [first, last] = [Math.min(...ids), Math.max(...ids)];
  const label = `${shortName(file)} tc${first}${last === first ? '' : `-${last}`} ${group.comment}`;
  const published = keysOf(group.public ?? group.private);
  const only = published.length === 1 ? published[0] : undefined;
  const path = join(dir, `${shortName(file)}-${index}`);
  if (only?.['kty'] === 'oct' && (only['alg'] === undefined || isHmacAlgorithm(String(only['alg'])))) {
    const secret = Buffer.from(String(only['k']), 'base64url');
    // readHmacSecret drops one trailing newline; no vector's secret ends in one (checked, not assumed).
    if (secret.at(-1) === 0x0a || secret.at(-1) === 0x0d) throw new Error(`${label}: the secret cannot be written as a secret file`);
    await writeFile(path, secret);
    const alg = (only['alg'] ?? 'HS256') as JwtAlgorithm;
    return { label, group, source: 'hmacSecretFile', issuer: testIssuerConfig(undefined, { issuer: ISSUER, algorithms: [alg], hmacSecretFile: path }) };
  }
  await writeFile(path, JSON.stringify({ keys: published }));
  const named = published.map(algorithmFor).filter((alg): alg is JwtAlgorithm => alg !== undefined && !isHmacAlgorithm(alg));
  // A set without any public-key algorithm (secrets only) still goes in as a JWKS file: its refusal is the point.
  const algorithms = named.length > 0 ? [...new Set(named)] : (['RS256'] as JwtAlgorithm[]);
  return { label, group, source: 'jwksFile', issuer: testIssuerConfig(undefined, { issuer: ISSUER, algorithms, jwksFile: path }) };
}

/** The production path: refused at creation (ConfigError) or an authenticator. */
async function createAuthenticator(setup: Setup): Promise<JwtAuthenticator | string> {
  try {
    return await createJwtAuthenticator(testIdentityConfig([setup.issuer], { tokenCacheSize: 0, maxTokenBytes: MAX_TOKEN_BYTES }), {
      configFile: CONFIG,
      now: () => NOW,
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return `refused at load: ${error.problems.map((problem) => problem.message).join('; ')}`;
  }
}

async function authenticate(authenticator: JwtAuthenticator | string, token: string): Promise<Outcome> {
  if (typeof authenticator === 'string') return refused(authenticator);
  const result = await authenticator.authenticate(token);
  return result.ok ? VERIFIED : refused(`${result.code}: ${result.detail}`);
}

/** A payload segment of a JWT that passes the claims part of `inspectToken`. */
const JWT_PAYLOAD = Buffer.from(JSON.stringify({ iss: ISSUER, sub: 'shape', exp: 1 })).toString('base64url');

/** callguard's token-shape rules on everything but the payload's content (see the file comment). */
function shapeProblem(token: string): string | undefined {
  const segments = token.split('.');
  const [header, payload, signature] = segments;
  if (segments.length !== 3 || header === undefined || payload === undefined || signature === undefined) {
    const shape = inspectToken(token, MAX_TOKEN_BYTES);
    return shape.ok ? 'not three segments' : `${shape.code}: ${shape.detail}`;
  }
  const outer = inspectToken(`${header}.${JWT_PAYLOAD}.${signature}`, MAX_TOKEN_BYTES);
  if (!outer.ok) return `${outer.code}: ${outer.detail}`;
  if (payload === '') return undefined; // an empty payload is a JWS (RFC 7515 §7.1), if not a JWT
  const inner = inspectToken(`${header}.${JWT_PAYLOAD}.${payload}`, MAX_TOKEN_BYTES);
  return inner.ok ? undefined : `payload segment: ${inner.code}: ${inner.detail.replace('signature', 'segment')}`;
}

/** The signature path: the same loaders and key separation as `createIssuerVerifier`, then `compactVerify`. */
async function createSignatureVerifier(setup: Setup): Promise<((token: string) => Promise<Outcome>) | string> {
  const { issuer } = setup;
  const path = `/identity/issuers/0/${setup.source}`;
  const loaded =
    setup.source === 'hmacSecretFile'
      ? await readHmacSecret(issuer.hmacSecretFile ?? '', path, issuer.algorithms)
      : await loadJwksFile(issuer.jwksFile ?? '', path);
  if ('message' in loaded) return `refused at load: ${loaded.message}`;
  const secret = loaded instanceof Uint8Array ? loaded : undefined;
  const keys = loaded instanceof Uint8Array ? undefined : (loaded as KeySet);
  const resolveKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey | Uint8Array> => {
    const alg = header.alg ?? '';
    if (isHmacAlgorithm(alg) ? secret === undefined : keys === undefined) {
      throw new CallguardError('ERR_TOKEN_ALGORITHM', 'the token algorithm is not allowed for this issuer');
    }
    return isHmacAlgorithm(alg) ? (secret as Uint8Array) : (keys as KeySet).getKey(header, token);
  };
  const options = { algorithms: [...issuer.algorithms] };
  return async (token) => {
    const problem = shapeProblem(token);
    if (problem !== undefined) return refused(problem);
    try {
      try {
        await compactVerify(token, resolveKey, options);
      } catch (error) {
        if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
        let last: unknown = error;
        for await (const key of error as unknown as AsyncIterable<CryptoKey>) {
          try {
            await compactVerify(token, key, options);
            return VERIFIED;
          } catch (candidateError) {
            last = candidateError;
          }
        }
        throw last;
      }
      return VERIFIED;
    } catch (error) {
      const reason = toReason(error);
      return refused(`${reason.code}: ${reason.detail}`);
    }
  };
}

// ---- JWTs signed with each group's own key (the production path with a real JWT) ----

const HASHES: Readonly<Record<string, string>> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };
/** RFC 8017 §9.2 note 1: the DER DigestInfo prefix of SHA-256. */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

/** RSASSA-PKCS1-v1_5 with e = 1: s = m, so the encoded message itself is a valid signature. */
function forgeWithExponentOne(jwk: Readonly<Record<string, unknown>>, input: string): Buffer {
  const size = Buffer.from(String(jwk['n']), 'base64url').length;
  const t = Buffer.concat([SHA256_DIGEST_INFO, createHash('sha256').update(input).digest()]);
  return Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(size - t.length - 3, 0xff), Buffer.from([0]), t]);
}

function signatureOf(jwk: Readonly<Record<string, unknown>>, alg: JwtAlgorithm, input: string): Buffer {
  const hash = alg === 'EdDSA' ? null : (HASHES[alg.slice(2)] ?? 'sha256');
  if (isHmacAlgorithm(alg))
    return createHmac(hash ?? 'sha256', Buffer.from(String(jwk['k']), 'base64url'))
      .update(input)
      .digest();
  if (jwk['kty'] === 'RSA' && jwk['e'] === 'AQ') return forgeWithExponentOne(jwk, input);
  const key: KeyObject = createPrivateKey({ key: jwk as never, format: 'jwk' });
  if (alg.startsWith('PS'))
    return sign(hash, Buffer.from(input), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
  if (alg.startsWith('ES')) return sign(hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return sign(hash, Buffer.from(input), key);
}

/** A JWT callguard would accept from this issuer, signed with the group's (first) private key; undefined if that key cannot sign. */
function mintJwt(group: WycheproofJoseGroup): string | undefined {
  const jwk = keysOf(group.private)[0];
  const alg = jwk === undefined ? undefined : algorithmFor(jwk);
  if (jwk === undefined || alg === undefined) return undefined;
  const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const header = { alg, ...(typeof jwk['kid'] === 'string' ? { kid: jwk['kid'] } : {}) };
  const iat = Math.floor(NOW / 1000);
  const input = `${segment(header)}.${segment({ iss: ISSUER, sub: 'forged-admin', aud: 'callguard', iat, exp: iat + 300 })}`;
  try {
    return `${input}.${signatureOf(jwk, alg, input).toString('base64url')}`;
  } catch {
    return undefined; // e.g. json_web_key wrong_kty: an "RSA" key made of EC members
  }
}

// ---- the run ----

interface Row {
  readonly vector: Vector;
  readonly jwt: Outcome;
  /** Undefined for JWE vectors. */
  readonly signature?: Outcome;
}

interface GroupRun {
  readonly setup: Setup;
  /** A group of JWE vectors: encryption keys, no signature to check. */
  readonly jwe: boolean;
  /** How the JWT path's authenticator came out: a refusal at load, or 'loaded'. */
  readonly load: string;
  /** A JWT signed with the group's key through the production path; undefined if the key cannot sign. */
  readonly minted?: Outcome;
}

const FOUND = conformanceDir();
/** The conformance directory, if it holds the vectors (a copy without wycheproof/ counts as missing). */
const CONFORMANCE = FOUND !== undefined && existsSync(join(FOUND, 'wycheproof', 'testvectors_v1', FILES[0])) ? FOUND : undefined;
if (CONFORMANCE === undefined) {
  testMissingConformanceData('Wycheproof JOSE vectors', 'Wycheproof JOSE vectors (wycheproof/testvectors_v1/json_web_*_test.json)');
}

describe.runIf(CONFORMANCE !== undefined)('Wycheproof JOSE vectors through callguard', () => {
  const rows: Row[] = [];
  const groups: GroupRun[] = [];
  const key = (row: Row) => row.vector.id;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'callguard-wycheproof-'));
    const generic = await createJwtAuthenticator(
      testIdentityConfig([testIssuerConfig(undefined, { issuer: ISSUER, algorithms: ['HS256'], hmacSecretFile: await writeSecret() })]),
      { configFile: CONFIG, now: () => NOW },
    );
    for (const file of FILES) {
      for (const [index, group] of readWycheproofJose(CONFORMANCE as string, file).entries()) {
        const setup = await createSetup(file, index, group);
        const authenticator = await createAuthenticator(setup);
        const verifySignature = await createSignatureVerifier(setup);
        const jwe = group.tests.every((test) => test.jwe !== undefined);
        const jwt = jwe ? undefined : mintJwt(group);
        groups.push({
          setup,
          jwe,
          load: typeof authenticator === 'string' ? authenticator : 'loaded',
          ...(jwt === undefined ? {} : { minted: await authenticate(authenticator, jwt) }),
        });
        for (const test of group.tests) {
          const raw = test.jws ?? test.jwe ?? '';
          const vector: Vector = {
            id: `${shortName(file)} tc${test.tcId}`,
            setup,
            test,
            token: typeof raw === 'string' ? raw : JSON.stringify(raw),
            jwe: test.jwe !== undefined,
          };
          if (vector.jwe) {
            rows.push({ vector, jwt: await authenticate(generic, vector.token) });
            continue;
          }
          const signature = typeof verifySignature === 'string' ? refused(verifySignature) : await verifySignature(vector.token);
          rows.push({ vector, jwt: await authenticate(authenticator, vector.token), signature });
        }
        if (typeof authenticator !== 'string') authenticator.close();
      }
    }
    generic.close();
    printSummary(rows, groups);
  });
  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  async function writeSecret(): Promise<string> {
    const path = join(dir, 'generic.secret');
    await writeFile(path, Buffer.alloc(32, 7));
    return path;
  }

  it('reads every vector of the three files', () => {
    expect(rows.length).toBe(26 + 401 + 83);
  });

  it('verifies no invalid vector on the JWT path', () => {
    expect(rows.filter((row) => row.vector.test.result === 'invalid' && row.jwt.verified).map(key)).toEqual([]);
  });

  it('verifies no invalid vector on the signature path (but the pending canonical-token ones)', () => {
    const verified = rows.filter((row) => row.vector.test.result === 'invalid' && row.signature?.verified === true).map(key);
    const excused = (id: string) => EXPECTED_TO_BE_FIXED_BY_CANONICAL_TOKENS.has(id) || CONTRADICTED_BY_A_VALID_VECTOR.includes(id);
    expect(verified.filter((id) => !excused(id))).toEqual([]);
  });

  it('excuses only the invalid vectors that repeat a valid one', () => {
    const validTokens = new Set(rows.filter((row) => row.vector.test.result === 'valid').map((row) => `${row.vector.setup.label} ${row.vector.token}`));
    const repeats = rows.filter((row) => row.vector.test.result === 'invalid' && validTokens.has(`${row.vector.setup.label} ${row.vector.token}`));
    expect(repeats.map(key)).toEqual(CONTRADICTED_BY_A_VALID_VECTOR);
  });

  it('refuses exactly the listed valid vectors on the signature path, each for its stated reason', () => {
    const refusedValid = rows.filter((row) => row.vector.test.result !== 'invalid' && row.signature !== undefined && !row.signature.verified);
    expect(refusedValid.map(key).sort()).toEqual(Object.keys(VALID_BUT_REFUSED).sort());
    for (const row of refusedValid) {
      const expected = VALID_BUT_REFUSED[key(row)];
      expect(row.signature?.verified === false ? row.signature.reason : '', `${key(row)}: ${expected?.why}`).toMatch(expected?.refusal ?? /^$/);
    }
  });

  it('refuses every valid vector on the JWT path only because it is no JWT, or for its listed reason', () => {
    for (const row of rows.filter((r) => r.vector.test.result !== 'invalid' && !r.jwt.verified)) {
      const reason = row.jwt.verified ? '' : row.jwt.reason;
      if (row.vector.jwe) {
        expect(reason, `${key(row)}: a JWE is not a compact JWS`).toMatch(/not three base64url segments/);
        continue;
      }
      const listed = VALID_BUT_REFUSED[key(row)] ?? KEY_SET_REFUSED_BY_DESIGN[row.vector.setup.label];
      if (listed?.refusal.test(reason)) continue;
      expect(reason, key(row)).toMatch(NOT_A_JWT);
    }
  });

  it('refuses at load every key set whose vectors are all invalid, and loads every other one but the listed', () => {
    for (const { setup, load } of groups.filter((g) => !g.jwe)) {
      const hasValid = setup.group.tests.some((test) => test.result !== 'invalid');
      const byDesign = KEY_SET_REFUSED_BY_DESIGN[setup.label];
      if (!hasValid || byDesign !== undefined) expect(load, setup.label).toMatch(byDesign?.refusal ?? /^refused at load/);
      else expect(load, setup.label).toBe('loaded');
    }
    expect(Object.keys(KEY_SET_REFUSED_BY_DESIGN).filter((label) => !groups.some((g) => g.setup.label === label))).toEqual([]);
  });

  it('allows a JWT signed with a group key exactly when the key set loads', () => {
    for (const { setup, load, minted } of groups) {
      if (minted === undefined) continue;
      expect(minted.verified ? 'verified' : minted.reason, setup.label).toBe(load === 'loaded' ? 'verified' : load);
    }
  });

  it.each([
    { name: 'RSA e = 1, a token forged without the private key (key tc9)', label: /^key tc9 /, refusal: /exponent 1 is below 65537/ },
    { name: 'ROCA (key tc7)', label: /^key tc7 /, refusal: /ROCA/ },
    { name: 'ROCA (crypto tc46)', label: /^crypto tc46 /, refusal: /ROCA/ },
    { name: 'a 47-byte HS384 secret (key tc11)', label: /^key tc11 /, refusal: /47 bytes; at least 48 are required for HS384/ },
    { name: 'a 63-byte HS512 secret (key tc12)', label: /^key tc12 /, refusal: /63 bytes; at least 64 are required for HS512/ },
    { name: 'RSA-1024 (key tc8)', label: /^key tc8 /, refusal: /1024 bits; at least 2048/ },
  ])('refuses $name at load, and a JWT signed with it end to end', ({ label, refusal }) => {
    const run = groups.find((g) => label.test(g.setup.label));
    expect(run?.load).toMatch(refusal);
    expect(run?.minted?.verified).toBe(false);
  });
});

/** What the JWT path says about a JWS whose payload is not a JWT claims set. */
const NOT_A_JWT = /payload is not a JSON object/;

function printSummary(rows: readonly Row[], groups: readonly GroupRun[]): void {
  const count = (path: 'jwt' | 'signature') => {
    const counts: Record<string, number> = {};
    for (const row of rows) {
      const outcome = row[path];
      if (outcome === undefined) continue;
      const name = `${row.vector.test.result} ${outcome.verified ? 'verified' : 'refused'}`;
      counts[name] = (counts[name] ?? 0) + 1;
    }
    return counts;
  };
  const pending = rows.filter((row) => EXPECTED_TO_BE_FIXED_BY_CANONICAL_TOKENS.has(row.vector.id));
  console.info(
    [
      `Wycheproof JOSE: ${rows.length} vectors (${rows.filter((row) => row.vector.jwe).length} JWE, JWT path only), ${groups.length} key sets (${groups.filter((g) => g.load === 'loaded').length} loaded)`,
      `  JWT path (authenticate):        ${JSON.stringify(count('jwt'))}`,
      `  signature path (compactVerify): ${JSON.stringify(count('signature'))}`,
      `  JWT signed with the group key:  ${JSON.stringify(
        groups.reduce<Record<string, number>>((acc, g) => {
          const name = g.jwe ? 'JWE keys, not signed' : g.minted === undefined ? 'cannot sign' : g.minted.verified ? 'verified' : 'refused';
          acc[name] = (acc[name] ?? 0) + 1;
          return acc;
        }, {}),
      )}`,
      `  key sets whose key cannot sign a JWT here: ${groups
        .filter((g) => g.minted === undefined && !g.jwe)
        .map((g) => g.setup.label)
        .join(', ')}`,
      ...CONTRADICTED_BY_A_VALID_VECTOR.map((id) => `  contradictory (invalid, same token as a valid vector): ${id}`),
      ...pending.map(
        (row) => `  pending (expected to be fixed by canonical tokens): ${row.vector.id} ${row.signature?.verified ? 'still verifies' : 'now refused'}`,
      ),
      ...rows
        .filter((row) => row.vector.test.result !== 'invalid' && row.signature?.verified === false)
        .map((row) => `  valid, refused: ${row.vector.id} ${row.vector.test.comment}: ${row.signature?.verified === false ? row.signature.reason : ''}`),
    ].join('\n'),
  );
}
