import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCallguard, type Callguard } from '../../src/build-callguard.js';
import { parseConfig } from '../../src/config/load-config.js';
import { type RunningServer, startGrpcServer } from '../../src/server/grpc-server.js';
import { createCheckClient, summarize } from '../helpers/envoy-check.js';
import { createMemoryDestination } from '../helpers/memory-destination.js';
import { mintClientCredentialsToken, type OidcIdp, startOidcIdp } from '../helpers/oidc-idp.js';

// A real OpenID Provider (oidc-provider) on loopback issues RFC 9068 access tokens by the
// client_credentials grant; callguard finds its keys by OIDC discovery and is driven over gRPC.

const REFRESH_SECONDS = 60;
const COOLDOWN_SECONDS = 5;

const configYaml = (issuer: string, clientId: string) => `
server: { listen: "127.0.0.1:0" }
identity:
  issuers:
    - name: idp
      issuer: ${issuer}
      discovery: true
      audiences: [urn:callguard]
      algorithms: [ES256]
      tokenType: at+jwt
      fetch: { timeoutMs: 2000, refreshSeconds: ${REFRESH_SECONDS}, unknownKidCooldownSeconds: ${COOLDOWN_SECONDS}, maxStaleSeconds: 3600 }
functions:
  - name: orders.list
    match: { method: GET, path: /orders }
    allow: [{ issuer: idp, subjects: [${clientId}] }]
`;

let idp: OidcIdp;
let callguard: Callguard;
let server: RunningServer;
let client: ReturnType<typeof createCheckClient>;
let dir: string;
/** What the IdP had served when callguard finished starting. */
let servedAtStart: OidcIdp['requests'];
/** callguard's clock runs this far ahead of the IdP's: key refreshes are driven by moving it, never by sleeping. */
let aheadMs = 0;
const keyFetchWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];

/** Settles on callguard's next key fetch: resolves on its `signing keys fetched` event, rejects on a failed fetch. */
const nextKeyFetch = () => new Promise<void>((resolve, reject) => keyFetchWaiters.push({ resolve, reject }));

beforeAll(async () => {
  idp = await startOidcIdp();
  dir = mkdtempSync(join(tmpdir(), 'callguard-oidc-'));
  const config = parseConfig(configYaml(idp.issuer, idp.clientId), join(dir, 'callguard.yaml'));
  callguard = await buildCallguard(config, {
    decisionLog: createMemoryDestination().stream,
    now: () => Date.now() + aheadMs,
    onEvent: ({ level, msg }) => {
      if (msg === 'signing keys fetched') for (const { resolve } of keyFetchWaiters.splice(0)) resolve();
      else if (level === 'warn' && msg.startsWith('fetching signing keys failed')) for (const { reject } of keyFetchWaiters.splice(0)) reject(new Error(msg));
    },
  });
  servedAtStart = { ...idp.requests };
  server = await startGrpcServer(config.server, callguard.handleCheck);
  client = createCheckClient(server.address);
});
afterAll(async () => {
  client?.close();
  await server?.close(1000);
  await callguard?.close();
  await idp?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const listOrders = async (token: string) => summarize(await client.check({ method: 'GET', path: '/orders', headers: { authorization: `Bearer ${token}` } }));

describe('callguard with oidc-provider as the IdP', () => {
  it('fetched the keys by discovery at start: the first verification asks the IdP nothing', async () => {
    expect(servedAtStart).toEqual({ discovery: 1, jwks: 1, token: 0 });
    const token = await mintClientCredentialsToken(idp, { scope: 'orders:read' });
    const s = await listOrders(token);
    expect(s.allow).toBe(true);
    expect(idp.requests).toEqual({ ...servedAtStart, token: 1 });
  });

  it('allows a client_credentials access token through the gRPC server', async () => {
    const token = await mintClientCredentialsToken(idp, { resource: 'urn:callguard', scope: 'orders:read' });
    const s = await listOrders(token);
    if (!s.allow) throw new Error(`denied: ${s.problem.code}`);
    expect(s.grpc).toBe(0);
    expect(s.headers['x-callguard-subject']).toBe(idp.clientId);
    expect(s.headers['x-callguard-function']).toBe('orders.list');
    expect(s.remove).toContain('authorization');
  });

  it('denies a token issued for another resource with ERR_TOKEN_AUDIENCE', async () => {
    const token = await mintClientCredentialsToken(idp, { resource: 'urn:other-api', scope: 'other:read' });
    const s = await listOrders(token);
    expect(s.allow ? undefined : s.problem.code).toBe('ERR_TOKEN_AUDIENCE');
    expect(s.allow ? undefined : s.status).toBe(401);
  });

  it('follows a key rotation without a restart, and stops accepting the removed key', async () => {
    const [oldKey] = idp.keys;
    if (oldKey === undefined) throw new TypeError('the IdP has no key');
    // Signed with the old key before the rotation: one is presented now (and so cached), one only after the removal.
    const oldSeen = await mintClientCredentialsToken(idp);
    const oldUnseen = await mintClientCredentialsToken(idp);
    expect((await listOrders(oldSeen)).allow).toBe(true);

    // 1. The IdP publishes a new key next to the old one and signs with it: the unknown kid makes callguard refetch.
    const newKey = await idp.createKey();
    idp.useKeys([newKey, oldKey]);
    const signedNew = await mintClientCredentialsToken(idp);
    expect(decodeProtectedHeader(signedNew).kid).toBe(newKey.kid);
    const jwksBeforeRotation = idp.requests.jwks;
    expect((await listOrders(signedNew)).allow).toBe(true);
    expect(idp.requests.jwks).toBe(jwksBeforeRotation + 1);

    // 2. The IdP drops the old key. Once callguard's keys are older than refreshSeconds, the next verification
    // refreshes them in the background (it is itself served by the keys in hand).
    idp.useKeys([newKey]);
    aheadMs += (REFRESH_SECONDS + 1) * 1000;
    const refreshed = nextKeyFetch();
    expect((await listOrders(await mintClientCredentialsToken(idp))).allow).toBe(true);
    await refreshed;
    expect(idp.requests.jwks).toBe(jwksBeforeRotation + 2);

    // 3. A token signed with the removed key and never seen is denied. Its kid is unknown again and the
    // cooldown has passed, so callguard asks the IdP once more before denying.
    const s = await listOrders(oldUnseen);
    expect(s.allow ? undefined : s.problem.code).toBe('ERR_TOKEN_KEY_UNKNOWN');
    expect(idp.requests.jwks).toBe(jwksBeforeRotation + 3);

    // 4. A verification is reused for at most 5 minutes (TOKEN_CACHE_MAX_AGE_MS) or until exp: the token
    // presented before the removal still passes from the cache, and is denied once that bound has passed
    // (the tokens live 15 minutes, so expiry is not what denies it).
    expect((await listOrders(oldSeen)).allow).toBe(true);
    aheadMs += 5 * 60 * 1000;
    const late = await listOrders(oldSeen);
    expect(late.allow ? undefined : late.problem.code).toBe('ERR_TOKEN_KEY_UNKNOWN');
  });
});
