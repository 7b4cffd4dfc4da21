import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load-config.js';
import type { Authenticator } from '../../../src/identity/authenticator.js';
import { createAuthenticators } from '../../../src/identity/create-authenticators.js';
import { createMemoryReplayStore } from '../../../src/replay/memory-replay-store.js';
import { caseIdentity } from '../../../src/test-cases/case-identity.js';
import { buildIdpMetadata, createSamlKey } from '../../helpers/saml-signer.js';

const dir = mkdtempSync(join(tmpdir(), 'callguard-case-identity-'));

/** What a request sees of an authenticator: which credential it reads, and what goes with it upstream. */
const shape = (authenticators: readonly Authenticator[]) =>
  authenticators.map((a) => ({ kind: a.kind, scheme: a.scheme, headers: a.headers, strip: a.strip ?? [] }));

describe('caseIdentity: the stand-in authenticators mirror the server', () => {
  // A differential test: if an authenticator gains a scheme or a header, the runner must follow.
  it.each([
    { name: 'every kind configured', saml: true, apiKeys: 'apiKeys: { file: keys.json, header: x-api-key }' },
    { name: 'API keys without a header, no SAML', saml: false, apiKeys: 'apiKeys: { file: keys.json }' },
    { name: 'JWT only', saml: false, apiKeys: '' },
  ])('$name: the same kinds, schemes, headers and stripped headers, in the same order', async ({ saml, apiKeys }) => {
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ ...jwk, kid: 'k', alg: 'ES256', use: 'sig' }] }));
    writeFileSync(join(dir, 'keys.json'), JSON.stringify({ version: 1, keys: [] }));
    writeFileSync(join(dir, 'idp.xml'), buildIdpMetadata({ entityId: 'https://idp.test', keys: [{ certificatePem: createSamlKey('idp').certificatePem }] }));
    const config = parseConfig(
      `identity:
  issuers: [{ name: corp, issuer: https://corp.test, audiences: [a], algorithms: [ES256], jwksFile: jwks.json }]
  ${saml ? 'saml: [{ name: idp, metadataFile: idp.xml, audiences: [a] }]' : ''}
  ${apiKeys}
functions: [{ name: f, match: { method: GET, path: /f }, allow: [{ issuer: corp, subjects: [a] }] }]
decisionLog: { destination: stdout }
`,
      join(dir, 'callguard.yaml'),
    );
    const replay = createMemoryReplayStore({ maxEntries: 1 });
    const real = await createAuthenticators(config, { replay });
    try {
      expect(shape(caseIdentity(undefined, config, 0).authenticators)).toEqual(shape(real));
    } finally {
      for (const a of real) a.close();
      replay.close();
    }
  });
});
