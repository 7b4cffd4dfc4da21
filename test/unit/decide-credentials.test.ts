import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallAttempt } from '../../src/call-attempt.js';
import { parseConfig } from '../../src/config/load-config.js';
import { createDecide, type Decide } from '../../src/decide.js';
import type { Decision } from '../../src/decision.js';
import { createFunctionRegistry } from '../../src/functions/function-registry.js';
import type { Authenticator } from '../../src/identity/authenticator.js';
import { createMemoryReplayStore } from '../../src/replay/memory-replay-store.js';
import { createPeerVerifier } from '../../src/transport/verify-peer.js';
import { apiKeyPrincipal, jwtPrincipal } from '../helpers/principals.js';
import { createTestCerts } from '../helpers/test-certs.js';

const BILLING = 'spiffe://example.org/ns/default/sa/billing';
const CONFIG = `
identity:
  issuers: [{ name: corp, issuer: https://idp.test, audiences: [callguard], algorithms: [ES256], jwksFile: jwks.json }]
  apiKeys: { file: keys.json }
  spiffe: { trustDomains: [example.org] }
functions:
  - { name: jwt.only, match: { method: GET, path: /jwt }, allow: [{ issuer: corp, groups: [g] }] }
  - { name: peer.only, match: { method: GET, path: /peer }, allow: [{ spiffeIds: ["${BILLING}"] }] }
  - { name: keys.ok, match: { method: GET, path: /keys }, allow: [{ issuer: apiKeys, groups: [ci] }] }
`;

/** Authenticators that answer from a table and count their calls: decide's credential stage, without keys. */
function stub(kind: 'jwt' | 'apiKey', scheme: string): Authenticator & { calls: number } {
  const self = {
    kind,
    scheme,
    headers: [],
    calls: 0,
    authenticate(credential: string) {
      self.calls++;
      if (credential === 'bad')
        return { ok: false as const, code: kind === 'jwt' ? ('ERR_TOKEN_SIGNATURE' as const) : ('ERR_API_KEY_UNKNOWN' as const), detail: 'no' };
      return { ok: true as const, value: kind === 'jwt' ? jwtPrincipal('corp', 'alice', ['g']) : apiKeyPrincipal('apiKeys', 'ci-bot', ['ci']) };
    },
    close() {},
  };
  return self;
}

describe('decide: which credentials a function accepts, and 401 challenges by scheme', () => {
  const certs = createTestCerts();
  let billingPem: string;
  let decide: Decide;
  const jwt = stub('jwt', 'bearer');
  const keys = stub('apiKey', 'apikey');
  beforeAll(() => {
    billingPem = certs.leaf('billing', `URI:${BILLING}`).pem;
    const config = parseConfig(CONFIG, '/tmp/decide-credentials.yaml');
    decide = createDecide({
      config,
      registry: createFunctionRegistry(config.functions),
      authenticators: [jwt, keys],
      peers: createPeerVerifier(config.identity.spiffe.trustDomains),
      inputs: new Map(),
      replay: createMemoryReplayStore({ maxEntries: 1000 }),
      newDecisionId: () => 'd',
    });
  });
  afterAll(() => certs.cleanup());

  const attempt = (path: string, authorization: string | undefined, peer: boolean): CallAttempt => ({
    requestId: 'r',
    method: 'GET',
    path,
    host: 'h',
    headers: authorization === undefined ? {} : { authorization },
    contextExtensions: {},
    transport: { tls: true, ...(peer ? { peer: { principal: BILLING, certificatePem: billingPem } } : {}) },
    body: { bytes: undefined, partial: false },
    sourceAddress: '127.0.0.1:1',
  });
  const outcome = (d: Decision) => (d.allow ? 'allow' : `${d.code}${d.wwwAuthenticate === undefined ? '' : ` ${d.wwwAuthenticate.split(' ')[0]}`}`);

  it.each([
    { name: 'a key where a rule names the key store', path: '/keys', auth: 'ApiKey good', peer: false, want: 'allow', looked: true },
    {
      name: 'a key where no rule names it: refused before any lookup',
      path: '/jwt',
      auth: 'ApiKey good',
      peer: false,
      want: 'ERR_CREDENTIAL_NOT_ACCEPTED Bearer',
      looked: false,
    },
    {
      name: 'same with a peer, on a function with no SPIFFE rule: still refused unlooked',
      path: '/jwt',
      auth: 'ApiKey good',
      peer: true,
      want: 'ERR_CREDENTIAL_NOT_ACCEPTED Bearer',
      looked: false,
    },
    {
      name: 'a token on a SPIFFE-only function, no peer: refused unverified',
      path: '/peer',
      auth: 'Bearer good',
      peer: false,
      want: 'ERR_CREDENTIAL_NOT_ACCEPTED Bearer',
      looked: false,
    },
    {
      name: 'a token on a SPIFFE-only function with the peer: checked, the peer admits',
      path: '/peer',
      auth: 'Bearer good',
      peer: true,
      want: 'allow',
      looked: true,
    },
    {
      name: 'a bad token on a SPIFFE-only function with the peer: never ignored',
      path: '/peer',
      auth: 'Bearer bad',
      peer: true,
      want: 'ERR_TOKEN_SIGNATURE Bearer',
      looked: true,
    },
    { name: 'an unknown key: the challenge names ApiKey', path: '/keys', auth: 'ApiKey bad', peer: false, want: 'ERR_API_KEY_UNKNOWN ApiKey', looked: true },
  ])('$name → $want', async ({ path, auth, peer, want, looked }) => {
    const before = jwt.calls + keys.calls;
    expect(outcome(await decide(attempt(path, auth, peer)))).toBe(want);
    expect(jwt.calls + keys.calls > before).toBe(looked);
  });
});
