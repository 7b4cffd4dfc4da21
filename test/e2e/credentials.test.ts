import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateApiKey } from '../../src/identity/api-key/api-key-format.js';
import { createKey } from '../../src/identity/api-key/key-operations.js';
import { writeKeysFile } from '../../src/identity/api-key/keys-file.js';
import { buildIdpMetadata, createSamlKey, type SamlKey, signedAssertion } from '../helpers/saml-signer.js';
import { describeWithEnvoy } from '../helpers/stack-envoy.js';
import type { TestStack } from '../helpers/stack-harness.js';
import { startTestStack } from '../helpers/stack-harness.js';
import { decisionsFor, send } from '../helpers/stack-http.js';

const ADFS = 'https://adfs.corp.test/adfs/services/trust';
const AUDIENCE = 'urn:callguard';
const GROUPS = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups';
type Json = Record<string, unknown>;

/**
 * API keys, claim rules and SAML assertions through real Envoy: the stack's own config plus a key
 * store, a SAML IdP and rules naming them (orders.get, GET /orders/{id}), and a CI-job claim rule on
 * orders.create.
 */
describeWithEnvoy('e2e: API keys, claim rules and SAML assertions through Envoy', () => {
  let stack: TestStack;
  let readerKey: string;
  let revokedKey: string;
  let idpKey: SamlKey;
  const iso = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();
  const assertion = (nameId: string, groups: string[], key = idpKey) =>
    Buffer.from(
      signedAssertion(key, {
        issuer: ADFS,
        nameId,
        issueInstant: iso(-5),
        notBefore: iso(-5),
        notOnOrAfter: iso(300),
        confirmations: [{ notOnOrAfter: iso(300) }],
        audienceRestrictions: [[AUDIENCE]],
        attributes: { [GROUPS]: groups },
      }),
    ).toString('base64');

  beforeAll(async () => {
    idpKey = createSamlKey('adfs');
    stack = await startTestStack({
      customizeCallguard: (config, dir) => {
        const now = Date.now();
        const reader = createKey({ version: 1, keys: [] }, { owner: 'ci-reports', expiresAtMs: now + 86_400_000, groups: ['orders-readers'] }, now, 90);
        const revoked = createKey(reader.file, { owner: 'contractor-bob', expiresAtMs: now + 86_400_000, groups: ['orders-readers'] }, now, 90);
        readerKey = reader.key;
        revokedKey = revoked.key;
        const keys = {
          version: 1 as const,
          keys: revoked.file.keys.map((k) => (k.owner === 'contractor-bob' ? { ...k, revokedAt: new Date(now).toISOString() } : k)),
        };
        writeKeysFile(path.join(dir, 'keys.json'), keys);
        writeFileSync(path.join(dir, 'adfs-metadata.xml'), buildIdpMetadata({ entityId: ADFS, keys: [{ certificatePem: idpKey.certificatePem }] }));
        const identity = config['identity'] as Json;
        identity['apiKeys'] = { file: path.join(dir, 'keys.json'), header: 'x-api-key' };
        identity['saml'] = [{ name: 'adfs', metadataFile: path.join(dir, 'adfs-metadata.xml'), audiences: [AUDIENCE], groupsAttribute: GROUPS }];
        const functions = config['functions'] as Json[];
        const fn = (name: string) => functions.find((f) => f['name'] === name) as Json;
        (fn('orders.get')['allow'] as Json[]).push({ issuer: 'apiKeys', groups: ['orders-readers'] }, { issuer: 'adfs', groups: ['Order Readers'] });
        (fn('orders.create')['allow'] as Json[]).push({
          issuer: 'example',
          claims: { repository: 'acme/shop', ref: ['refs/heads/main'], '/job/environment': 'prod' },
        });
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('an API key in x-api-key reaches the function as its owner; the key never goes upstream', async () => {
    const res = await send(stack, { path: '/orders/7', headers: { 'x-api-key': readerKey } });
    expect(res.status).toBe(200);
    const seen = res.json<{ identity: Record<string, string>; authorizationHeaderPresent: boolean; headers?: Record<string, string> }>();
    expect(seen.identity).toMatchObject({ 'x-callguard-subject': 'ci-reports', 'x-callguard-credential': 'apiKey', 'x-callguard-function': 'orders.get' });
    expect(JSON.stringify(seen)).not.toContain(readerKey);
    const [line] = await decisionsFor(stack, res.requestId);
    expect(line).toMatchObject({ outcome: 'allow', principal: { kind: 'apiKey', subject: 'ci-reports', keyId: expect.stringMatching(/^key_/) } });
    expect(JSON.stringify(line)).not.toContain(readerKey);
  });

  it.each([
    { name: 'Authorization: ApiKey', headers: () => ({ authorization: `ApiKey ${readerKey}` }), status: 200, code: undefined },
    { name: 'a revoked key', headers: () => ({ 'x-api-key': revokedKey }), status: 401, code: 'ERR_API_KEY_REVOKED' },
    { name: 'a key with a bad checksum', headers: () => ({ 'x-api-key': `cgk_${'0'.repeat(43)}000000` }), status: 401, code: 'ERR_API_KEY_MALFORMED' },
    { name: 'a well-formed key nobody issued', headers: () => ({ 'x-api-key': generateApiKey().key }), status: 401, code: 'ERR_API_KEY_UNKNOWN' },
    {
      name: 'a key on a function whose rules do not name the key store',
      path: '/orders',
      method: 'POST',
      headers: () => ({ 'x-api-key': readerKey }),
      status: 401,
      code: 'ERR_CREDENTIAL_NOT_ACCEPTED',
    },
  ])('$name → $status', async ({ headers, status, code, path: p, method }) => {
    const res = await send(stack, { method: method ?? 'GET', path: p ?? '/orders/7', headers: headers(), ...(method === 'POST' ? { body: '{}' } : {}) });
    expect(res.status).toBe(status);
    if (code !== undefined) expect(res.json()['code']).toBe(code);
  });

  it('a CI job token: allowed only with every claim of the rule (nested by JSON pointer)', async () => {
    const body = JSON.stringify({ sku: 'ABC-123', quantity: 1, card: { number: '4111111111111111', expiry: '12/30' } });
    const mint = (extra: Json) => stack.issuer.mint({ subject: 'repo:acme/shop:ref:refs/heads/main', extra });
    const ok = await send(stack, {
      method: 'POST',
      path: '/orders',
      token: await mint({ repository: 'acme/shop', ref: 'refs/heads/main', job: { environment: 'prod' } }),
      body,
    });
    expect(ok.status).toBe(200);
    const fork = await send(stack, {
      method: 'POST',
      path: '/orders',
      token: await mint({ repository: 'evil/shop', ref: 'refs/heads/main', job: { environment: 'prod' } }),
      body,
    });
    expect([fork.status, fork.json()['code']]).toEqual([403, 'ERR_NOT_PERMITTED']);
    const staging = await send(stack, {
      method: 'POST',
      path: '/orders',
      token: await mint({ repository: 'acme/shop', ref: 'refs/heads/main', job: { environment: 'staging' } }),
      body,
    });
    expect([staging.status, staging.json()['code']]).toEqual([403, 'ERR_NOT_PERMITTED']);
  });

  it('a certificate-bound token (RFC 8705): allowed with its client certificate, refused without it or with another', async () => {
    const der = new X509Certificate(readFileSync(path.join(stack.pkiDir, 'client.crt'))).raw;
    const thumbprint = createHash('sha256').update(der).digest('base64url');
    const token = await stack.issuer.mint({ subject: 'svc-bound', groups: ['orders-readers'], extra: { cnf: { 'x5t#S256': thumbprint } } });
    const withCert = await send(stack, { path: '/orders/7', token, clientCert: true });
    expect(withCert.status).toBe(200);
    const stolen = await send(stack, { path: '/orders/7', token });
    expect([stolen.status, stolen.json()['code']]).toEqual([401, 'ERR_TOKEN_BINDING']);
    const otherBinding = await stack.issuer.mint({ subject: 'svc-bound', groups: ['orders-readers'], extra: { cnf: { 'x5t#S256': 'A'.repeat(43) } } });
    const mismatch = await send(stack, { path: '/orders/7', token: otherBinding, clientCert: true });
    expect([mismatch.status, mismatch.json()['code']]).toEqual([401, 'ERR_TOKEN_BINDING']);
  });

  it('DPoP (RFC 9449): a bound token with a fresh proof for this request is allowed once; the proof never goes upstream', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    const jkt = await calculateJwkThumbprint(jwk, 'sha256');
    const token = await stack.issuer.mint({ subject: 'svc-dpop', groups: ['orders-readers'], extra: { cnf: { jkt } } });
    const proof = (path: string, jti: string) =>
      new SignJWT({
        jti,
        htm: 'GET',
        htu: `https://127.0.0.1:${stack.envoyPort}${path}`,
        iat: Math.floor(Date.now() / 1000),
        ath: createHash('sha256').update(token).digest('base64url'),
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
        .sign(privateKey);
    const first = await proof('/orders/7', 'dpop-1');
    const ok = await send(stack, { path: '/orders/7?page=1', headers: { authorization: `DPoP ${token}`, dpop: first } });
    expect(ok.status).toBe(200);
    const seen = ok.json<{ identity: Record<string, string>; authorizationHeaderPresent: boolean; dpopHeaderPresent: boolean }>();
    expect([seen.identity['x-callguard-subject'], seen.authorizationHeaderPresent, seen.dpopHeaderPresent]).toEqual(['svc-dpop', false, false]);
    // The same proof again (a captured request replayed): refused, with the DPoP challenge.
    const replayed = await send(stack, { path: '/orders/7', headers: { authorization: `DPoP ${token}`, dpop: first } });
    expect([replayed.status, replayed.json()['code']]).toEqual([401, 'ERR_DPOP_PROOF']);
    expect(replayed.headers['www-authenticate']).toMatch(/^DPoP algs="ES256 /);
    // A proof made for another URL, and the token used as a Bearer token: refused.
    const elsewhere = await send(stack, { path: '/orders/7', headers: { authorization: `DPoP ${token}`, dpop: await proof('/orders/8', 'dpop-2') } });
    expect([elsewhere.status, elsewhere.json()['code']]).toEqual([401, 'ERR_DPOP_PROOF']);
    const bearer = await send(stack, { path: '/orders/7', token });
    expect([bearer.status, bearer.json()['code']]).toEqual([401, 'ERR_TOKEN_BINDING']);
  });

  it('a signed SAML assertion from the IdP in the metadata is allowed, with NameID as subject', async () => {
    const res = await send(stack, { path: '/orders/7', headers: { authorization: `SAML ${assertion('alice@corp.test', ['Order Readers'])}` } });
    expect(res.status).toBe(200);
    const seen = res.json<{ identity: Record<string, string> }>();
    expect(seen.identity).toMatchObject({ 'x-callguard-subject': 'alice@corp.test', 'x-callguard-issuer': ADFS, 'x-callguard-credential': 'saml' });
    const [line] = await decisionsFor(stack, res.requestId);
    expect(line).toMatchObject({ outcome: 'allow', principal: { kind: 'saml', subject: 'alice@corp.test', assertionId: '_assertion1' } });
  });

  it.each([
    { name: 'not in the group', make: () => assertion('bob@corp.test', ['Staff']), status: 403, code: 'ERR_NOT_PERMITTED' },
    {
      name: 'signed by another key',
      make: () => assertion('alice@corp.test', ['Order Readers'], createSamlKey('evil')),
      status: 401,
      code: 'ERR_SAML_SIGNATURE',
    },
    { name: 'not base64', make: () => '<saml:Assertion/>', status: 401, code: 'ERR_SAML_MALFORMED' },
  ])('a SAML assertion $name → $status $code', async ({ make, status, code }) => {
    const res = await send(stack, { path: '/orders/7', headers: { authorization: `SAML ${make()}` } });
    expect(res.status).toBe(status);
    expect(res.json()['code']).toBe(code);
  });
});
