import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SamlIdpConfig } from '../../../../src/config/types.js';
import { createIdpMetadataSource, type IdpMetadataSource } from '../../../../src/identity/saml/idp-metadata-source.js';
import { buildIdpMetadata, createSamlKey, type SamlKey } from '../../../helpers/saml-signer.js';

const FETCH = { timeoutMs: 1000, refreshSeconds: 60, unknownKidCooldownSeconds: 30, maxStaleSeconds: 120 };

describe('createIdpMetadataSource: metadataUrl (fetched at start, refreshed, stale rules like a JWKS)', () => {
  let server: Server;
  let url: string;
  let body: string;
  let status = 200;
  let hits = 0;
  let keyA: SamlKey;
  let keyB: SamlKey;
  beforeAll(async () => {
    keyA = createSamlKey('idp-a');
    keyB = createSamlKey('idp-b');
    body = buildIdpMetadata({ entityId: 'https://idp.test/saml', keys: [{ certificatePem: keyA.certificatePem }] });
    server = createServer((_req, res) => {
      hits++;
      res.writeHead(status, { 'content-type': 'application/samlmetadata+xml' }).end(status === 200 ? body : 'down');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metadata`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const idp = (metadataUrl: string): SamlIdpConfig => ({
    name: 'adfs',
    metadataUrl,
    audiences: ['urn:callguard'],
    maxLifetimeSeconds: 3600,
    maxAssertionBytes: 16384,
    fetch: FETCH,
  });

  it('fetches at start; keeps the last good metadata while the IdP fails, until maxStaleSeconds; then none', async () => {
    let t = 1_000_000;
    const events: string[] = [];
    const source = (await createIdpMetadataSource(idp(url), '/identity/saml/0', 'c.yaml', {
      now: () => t,
      fetch,
      onEvent: (e) => events.push(`${e.level}: ${e.msg}`),
    })) as IdpMetadataSource;
    try {
      expect(hits).toBe(1);
      expect(source.current()?.entityId).toBe('https://idp.test/saml');
      expect(source.current()?.signingCertificates).toHaveLength(1);
      status = 503;
      t += 100_000;
      expect(source.current()?.entityId).toBe('https://idp.test/saml'); // within maxStaleSeconds of the last success
      t += 30_000;
      expect(source.current()).toBeUndefined(); // past it: refused (ERR_KEYS_UNAVAILABLE upstream)
    } finally {
      source.close();
      status = 200;
    }
    expect(events[0]).toMatch(/^info: SAML metadata fetched: 1 signing certificate/);
  });

  it('an IdP unreachable at start does not stop start-up: nothing is trusted until a fetch succeeds', async () => {
    const events: string[] = [];
    const source = (await createIdpMetadataSource(idp('http://127.0.0.1:1/metadata'), '/identity/saml/0', 'c.yaml', {
      now: Date.now,
      fetch,
      onEvent: (e) => events.push(e.level),
    })) as IdpMetadataSource;
    source.close();
    expect(source.current()).toBeUndefined();
    expect(events).toEqual(['warn']);
  });

  it('reports its status (readiness, metrics): fetched and its age on its own clock; never fetched', async () => {
    let t = 1_000_000;
    const up = (await createIdpMetadataSource(idp(url), '/identity/saml/0', 'c.yaml', { now: () => t, fetch, onEvent: () => {} })) as IdpMetadataSource;
    const down = (await createIdpMetadataSource(idp('http://127.0.0.1:1/metadata'), '/identity/saml/1', 'c.yaml', {
      now: () => t,
      fetch,
      onEvent: () => {},
    })) as IdpMetadataSource;
    up.close();
    down.close();
    t += 12_000;
    expect(up.status()).toEqual({ name: 'adfs', loaded: true, lastFetchOk: true, ageSeconds: 12 });
    expect(down.status()).toEqual({ name: 'adfs', loaded: false, lastFetchOk: false, ageSeconds: undefined });
  });

  it('a metadata file with a problem is a config problem naming the file and key', async () => {
    const problems = await createIdpMetadataSource(
      { ...idp(url), metadataUrl: undefined, metadataFile: '/nonexistent/metadata.xml' } as unknown as SamlIdpConfig,
      '/identity/saml/2',
      'c.yaml',
      {
        now: Date.now,
        fetch,
        onEvent: () => {},
      },
    );
    expect(problems).toEqual([{ file: 'c.yaml', path: '/identity/saml/2/metadataFile', message: 'cannot read "/nonexistent/metadata.xml": ENOENT' }]);
  });

  it('metadata publishing two signing certificates (a key rollover) trusts both', async () => {
    body = buildIdpMetadata({ entityId: 'https://idp.test/saml', keys: [{ certificatePem: keyA.certificatePem }, { certificatePem: keyB.certificatePem }] });
    const source = (await createIdpMetadataSource(idp(url), '/identity/saml/0', 'c.yaml', { now: Date.now, fetch, onEvent: () => {} })) as IdpMetadataSource;
    source.close();
    expect(source.current()?.signingCertificates).toHaveLength(2);
  });
});
