import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdentityConfig, SamlIdpConfig } from '../../../../src/config/types.js';
import type { Authenticator, AuthResult } from '../../../../src/identity/authenticator.js';
import { createSamlAuthenticator } from '../../../../src/identity/saml/saml-authenticator.js';
import { testIdentityConfig } from '../../../helpers/jwt-config.js';
import { buildIdpMetadata, createSamlKey, SAML_NOW, type SamlKey, SP_AUDIENCE, signedAssertion } from '../../../helpers/saml-signer.js';

const FETCH = { timeoutMs: 1000, refreshSeconds: 300, unknownKidCooldownSeconds: 30, maxStaleSeconds: 3600 };
const A = 'https://idp-a.test/saml';
const B = 'https://idp-b.test/saml';
const dir = mkdtempSync(join(tmpdir(), 'callguard-saml-auth-'));
const b64 = (xml: string) => Buffer.from(xml).toString('base64');
const code = (r: AuthResult) => (r.ok ? `ok:${r.value.source}:${r.value.subject}` : r.code);
const idpConfig = (name: string, source: { metadataFile: string } | { metadataUrl: string }): SamlIdpConfig =>
  ({ name, audiences: [SP_AUDIENCE], groupsAttribute: 'groups', maxLifetimeSeconds: 3600, maxAssertionBytes: 16384, fetch: FETCH, ...source }) as SamlIdpConfig;
const identity = (saml: SamlIdpConfig[]): IdentityConfig => ({ ...testIdentityConfig([]), saml });

describe('createSamlAuthenticator', () => {
  let keyA: SamlKey;
  let keyB: SamlKey;
  let two: Authenticator;
  let t = SAML_NOW;
  beforeAll(async () => {
    keyA = createSamlKey('idp-a');
    keyB = createSamlKey('idp-b');
    const file = (name: string, entityId: string, key: SamlKey) => {
      const path = join(dir, name);
      writeFileSync(path, buildIdpMetadata({ entityId, keys: [{ certificatePem: key.certificatePem }] }));
      return { metadataFile: path };
    };
    two = (await createSamlAuthenticator(identity([idpConfig('a', file('a.xml', A, keyA)), idpConfig('b', file('b.xml', B, keyB))]), {
      now: () => t,
    })) as Authenticator;
  });
  afterAll(() => two?.close());

  it.each([
    { name: 'IdP a', make: () => signedAssertion(keyA, { issuer: A, nameId: 'alice' }), want: 'ok:a:alice' },
    { name: 'IdP b', make: () => signedAssertion(keyB, { issuer: B, nameId: 'bob' }), want: 'ok:b:bob' },
    { name: "a's issuer, signed by b's key", make: () => signedAssertion(keyB, { issuer: A, nameId: 'mallory' }), want: 'ERR_SAML_SIGNATURE' },
    { name: 'an issuer no IdP has', make: () => signedAssertion(keyA, { issuer: 'https://evil.test', nameId: 'mallory' }), want: 'ERR_SAML_ISSUER' },
    { name: 'no Issuer a parser finds (a crafted, quadratic-for-a-regex document)', make: () => '<Issuer '.repeat(2000), want: 'ERR_SAML_MALFORMED' },
  ])('with two IdPs, chooses by Issuer: $name → $want', async ({ make, want }) => {
    expect(code(await two.authenticate(b64(make())))).toBe(want);
  });

  it('a verified assertion is served from the cache until its NotOnOrAfter, then verified again', async () => {
    const credential = b64(signedAssertion(keyA, { issuer: A, nameId: 'carol' }));
    expect(code(await two.authenticate(credential))).toBe('ok:a:carol');
    const cached = two.authenticate(credential);
    expect(cached instanceof Promise).toBe(false);
    t = SAML_NOW + 331_000; // past the helper's NotOnOrAfter (+300 s) and the 30 s clock skew
    try {
      expect(code(await two.authenticate(credential))).toBe('ERR_SAML_EXPIRED');
    } finally {
      t = SAML_NOW;
    }
  });
});

describe('createSamlAuthenticator: metadataUrl and a signing-key rollover', () => {
  let server: Server;
  let metadata = '';
  let fetches = 0;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(metadata);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('an assertion signed with a key the metadata did not list yet: refetched once per cooldown, then allowed', async () => {
    const oldKey = createSamlKey('old');
    const newKey = createSamlKey('new');
    metadata = buildIdpMetadata({ entityId: A, keys: [{ certificatePem: oldKey.certificatePem }] });
    let t = SAML_NOW;
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metadata`;
    const auth = (await createSamlAuthenticator(identity([idpConfig('a', { metadataUrl: url })]), { now: () => t })) as Authenticator;
    try {
      expect(fetches).toBe(1); // at start
      const signedNew = b64(signedAssertion(newKey, { issuer: A, nameId: 'alice' }));
      // Not published yet: refetched, still unknown, refused.
      expect(code(await auth.authenticate(signedNew))).toBe('ERR_SAML_SIGNATURE');
      expect(fetches).toBe(2);
      // Within the cooldown a bad signature costs no fetch.
      metadata = buildIdpMetadata({ entityId: A, keys: [{ certificatePem: oldKey.certificatePem }, { certificatePem: newKey.certificatePem }] });
      expect(code(await auth.authenticate(signedNew))).toBe('ERR_SAML_SIGNATURE');
      expect(fetches).toBe(2);
      // After it, the rollover is picked up on the failing call itself.
      t += 31_000;
      expect(code(await auth.authenticate(signedNew))).toBe('ok:a:alice');
      expect(fetches).toBe(3);
    } finally {
      auth.close();
    }
  });
});
