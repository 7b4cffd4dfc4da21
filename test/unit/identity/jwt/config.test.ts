import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, type ConfigProblem } from '../../../../src/errors.js';
import { createJwtAuthenticator } from '../../../../src/identity/jwt/jwt-authenticator.js';
import { type IssuerOverrides, testIdentityConfig, testIssuerConfig } from '../../../helpers/jwt-config.js';
import { createTestIssuer, createTestKey, type TestIssuer } from '../../../helpers/jwt-issuer.js';

let dir: string;
let idp: TestIssuer;
const file = (name: string) => join(dir, name);
const CONFIG = '/etc/callguard.yaml';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'callguard-config-'));
  idp = await createTestIssuer();
  const decoys = await Promise.all([createTestKey('RS256'), createTestKey('ES256')]);
  await Promise.all([
    writeFile(file('short.secret'), 'too-short\n'),
    writeFile(file('exact.secret'), `${'s'.repeat(32)}\n`),
    writeFile(file('31-plus-newline.secret'), `${'s'.repeat(31)}\n`),
    writeFile(file('jwks.json'), JSON.stringify({ keys: [idp.rs256.publicJwk, idp.es256.publicJwk] })),
    writeFile(file('kidless.json'), JSON.stringify({ keys: [...decoys, idp.es256, idp.rs256].map(({ publicJwk: { kid, ...jwk } }) => jwk) })),
    writeFile(file('not-json.json'), '{"keys": ['),
    writeFile(file('no-keys.json'), '{"key": []}'),
    writeFile(file('private.json'), JSON.stringify({ keys: [{ ...idp.rs256.publicJwk, d: 'AAAA' }] })),
  ]);
});
afterAll(async () => {
  await idp.close();
  await rm(dir, { recursive: true, force: true });
});

async function problemsOf(...issuers: IssuerOverrides[]): Promise<ConfigProblem[]> {
  const config = testIdentityConfig(issuers.map((overrides, i) => testIssuerConfig(undefined, { issuer: `https://i${i}.test`, ...overrides })));
  try {
    (await createJwtAuthenticator(config, { configFile: CONFIG })).close();
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return [...error.problems];
  }
}

const at = (path: string, fileName = CONFIG) => ({ file: fileName, path, message: expect.any(String) });

describe('createJwtAuthenticator: configuration', () => {
  it.each([
    { name: 'HS256 without hmacSecretFile', issuer: { algorithms: ['HS256'] }, problems: [at('/identity/issuers/0/algorithms')] },
    { name: 'two key sources', issuer: { jwksUrl: 'https://i.test/jwks', discovery: true }, problems: [at('/identity/issuers/0')] },
    { name: 'no key source for RS256', issuer: {}, problems: [at('/identity/issuers/0')] },
    {
      name: 'a key source for HS-only',
      issuer: { algorithms: ['HS256'], jwksUrl: 'https://i.test/jwks', hmacSecretFile: 'x' },
      problems: [at('/identity/issuers/0/algorithms')],
    },
    { name: 'a secret without HS*', issuer: { jwksUrl: 'https://i.test/jwks', hmacSecretFile: 'x' }, problems: [at('/identity/issuers/0/hmacSecretFile')] },
  ] as { name: string; issuer: IssuerOverrides; problems: unknown[] }[])('rejects $name, naming the issuer path', async ({ issuer, problems }) => {
    expect(await problemsOf({ ...issuer })).toEqual(problems);
  });

  it.each([
    { name: 'a short HMAC secret', key: 'hmacSecretFile', value: 'short.secret', message: /9 bytes; at least 32/ },
    { name: '31 bytes plus a newline', key: 'hmacSecretFile', value: '31-plus-newline.secret', message: /31 bytes/ },
    { name: 'a missing HMAC secret file', key: 'hmacSecretFile', value: 'absent.secret', message: /ENOENT/ },
    { name: 'a missing JWKS file', key: 'jwksFile', value: 'absent.json', message: /ENOENT/ },
    { name: 'a JWKS file that is not JSON', key: 'jwksFile', value: 'not-json.json', message: /not a usable JWKS/ },
    { name: 'a JWKS file without keys', key: 'jwksFile', value: 'no-keys.json', message: /no "keys" array/ },
    { name: 'a JWKS file with a private key', key: 'jwksFile', value: 'private.json', message: /not a public key/ },
  ])('rejects $name, naming the file and key path', async ({ key, value, message }) => {
    const overrides: IssuerOverrides = key === 'jwksFile' ? { jwksFile: file(value) } : { algorithms: ['HS256'], hmacSecretFile: file(value) };
    const problems = await problemsOf(overrides);
    expect(problems).toEqual([{ file: file(value), path: `/identity/issuers/0/${key}`, message: expect.stringMatching(message) }]);
  });

  it('reports every problem at once', async () => {
    const problems = await problemsOf({ algorithms: ['HS256'] }, {}, { issuer: 'https://i0.test', jwksFile: file('jwks.json') });
    expect(problems.map((p) => p.path)).toEqual(['/identity/issuers/0/algorithms', '/identity/issuers/1', '/identity/issuers/2/issuer']);
  });

  it.each([
    { name: 'a 32-byte secret with a trailing newline', overrides: () => ({ algorithms: ['HS256'], hmacSecretFile: file('exact.secret') }) },
    { name: 'a valid JWKS file', overrides: () => ({ jwksFile: file('jwks.json') }) },
  ] as { name: string; overrides: () => IssuerOverrides }[])('accepts $name', async ({ overrides }) => {
    expect(await problemsOf(overrides())).toEqual([]);
  });

  it('verifies tokens against a JWKS file without any fetch', async () => {
    const config = testIdentityConfig([testIssuerConfig(idp, { jwksUrl: undefined, jwksFile: file('jwks.json') })]);
    const verifier = await createJwtAuthenticator(config);
    const results = await Promise.all([verifier.authenticate(await idp.mint()), verifier.authenticate(await idp.mint({ key: idp.es256 }))]);
    expect(results.map((r) => (r.ok ? 'ok' : r.code))).toEqual(['ok', 'ok']);
    expect(idp.requests.jwks).toBe(0);
    verifier.close();
  });

  it.each([
    { name: 'RS256', key: () => idp.rs256 },
    { name: 'ES256', key: () => idp.es256 },
  ])('tries each candidate key for a kid-less $name token (RFC 7515 §4.1.4)', async ({ key }) => {
    const config = testIdentityConfig([testIssuerConfig(idp, { jwksUrl: undefined, jwksFile: file('kidless.json') })]);
    const verifier = await createJwtAuthenticator(config);
    const result = await verifier.authenticate(await idp.mint({ key: key(), header: { kid: undefined } }));
    expect(result.ok ? 'ok' : result.code).toBe('ok');
    verifier.close();
  });
});
