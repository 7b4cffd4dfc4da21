import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeProtectedHeader, exportJWK, generateKeyPair, type JWK } from 'jose';
// oidc-provider ships no type declarations (they live in @types/oidc-provider, a dependency not taken); the members used here are typed below.
// @ts-expect-error TS7016: no declaration file for 'oidc-provider'
import * as oidcProvider from 'oidc-provider';

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;
type ProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => { callback(): NodeHandler };
const { Provider, errors } = oidcProvider as { Provider: ProviderConstructor; errors: { InvalidTarget: new (description?: string) => Error } };

/** A signing key of the IdP: the private JWK goes into the Provider's `jwks`, the Provider publishes the public part. */
export interface IdpKey {
  readonly kid: string;
  readonly privateJwk: JWK;
}

export interface OidcIdp {
  /** `http://127.0.0.1:<port>`: the Provider's issuer identifier, `iss` of its tokens. */
  readonly issuer: string;
  /** The one client, registered for the client_credentials grant (its tokens' `sub`). */
  readonly clientId: string;
  readonly clientSecret: string;
  /** Requests served so far, by endpoint (counted before the Provider sees them). */
  readonly requests: { readonly discovery: number; readonly jwks: number; readonly token: number };
  /** The key set the Provider publishes now, and the `kid` it signs access tokens with. */
  readonly keys: readonly IdpKey[];
  readonly signingKid: string;
  /** Makes an ES256 key (not published until `useKeys`). */
  createKey(kid?: string): Promise<IdpKey>;
  /**
   * Restarts the IdP with exactly these keys, on the same issuer URL and port: a new Provider
   * replaces the old one behind the same HTTP server. Access tokens are signed with `signingKid`.
   */
  useKeys(keys: readonly IdpKey[], signingKid?: string): void;
  close(): Promise<void>;
}

export interface OidcIdpOptions {
  /** Resource indicators (RFC 8707) the IdP issues tokens for, each with the scopes it knows; `aud` is the indicator. */
  readonly resources?: Readonly<Record<string, string>>;
  /** Lifetime of access tokens, seconds (default 900). */
  readonly accessTokenTtlSeconds?: number;
}

export interface ClientCredentialsRequest {
  /** RFC 8707 `resource`; omitted, the IdP's default (`urn:callguard`). */
  readonly resource?: string;
  readonly scope?: string;
}

const DEFAULT_RESOURCE = 'urn:callguard';
const DEFAULT_RESOURCES: Readonly<Record<string, string>> = { [DEFAULT_RESOURCE]: 'orders:read orders:write', 'urn:other-api': 'other:read' };

/**
 * The Provider's storage: nothing to store. JWT access tokens are self-contained (oidc-provider saves only
 * opaque ones) and the client is static configuration; this also keeps the quick-start in-memory adapter
 * from warning on every restart.
 */
const noStorage = () => ({
  upsert: async () => {},
  find: async () => undefined,
  findByUid: async () => undefined,
  findByUserCode: async () => undefined,
  consume: async () => {},
  destroy: async () => {},
  revokeByGrantId: async () => {},
});

let kidCounter = 0;

/** An ES256 key with its private parts, for the Provider's `jwks`. */
export async function createIdpKey(kid = `idp-es256-${++kidCounter}`): Promise<IdpKey> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid, privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' } };
}

/**
 * Starts oidc-provider (a certified OpenID Provider) on 127.0.0.1 with a port the OS chooses: the
 * server listens first, so the Provider is built with its real issuer URL. One client may use the
 * client_credentials grant; access tokens are RFC 9068 JWTs (`typ: at+jwt`) signed ES256, their `aud`
 * the requested resource indicator (RFC 8707). Resolves once listening.
 */
export async function startOidcIdp(options: OidcIdpOptions = {}): Promise<OidcIdp> {
  const resources = options.resources ?? DEFAULT_RESOURCES;
  const ttl = options.accessTokenTtlSeconds ?? 900;
  const clientId = 'svc-orders';
  const clientSecret = 'callguard-test-client-secret-0123456789';
  const requests = { discovery: 0, jwks: 0, token: 0 };
  let handler: NodeHandler | undefined;

  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/.well-known/openid-configuration') requests.discovery += 1;
    else if (path === '/jwks') requests.jwks += 1;
    else if (path === '/token') requests.token += 1;
    if (handler === undefined) return void res.writeHead(503).end();
    handler(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const resourceServer = (resource: string, signingKid: string) => {
    const scope = resources[resource];
    if (scope === undefined) throw new errors.InvalidTarget();
    return { scope, audience: resource, accessTokenFormat: 'jwt', accessTokenTTL: ttl, jwt: { sign: { alg: 'ES256', kid: signingKid } } };
  };

  const configure = (keys: readonly IdpKey[], signingKid: string): NodeHandler => {
    const provider = new Provider(issuer, {
      adapter: noStorage,
      clients: [{ client_id: clientId, client_secret: clientSecret, grant_types: ['client_credentials'], redirect_uris: [], response_types: [] }],
      clientDefaults: { id_token_signed_response_alg: 'ES256' },
      jwks: { keys: keys.map((key) => key.privateJwk) },
      ttl: { ClientCredentials: ttl },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => DEFAULT_RESOURCE,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx: unknown, resource: string) => resourceServer(resource, signingKid),
        },
      },
    });
    return provider.callback();
  };

  const state = { keys: [await createIdpKey()] as readonly IdpKey[], signingKid: '' };
  const useKeys = (keys: readonly IdpKey[], signingKid = keys[0]?.kid) => {
    if (signingKid === undefined || !keys.some((key) => key.kid === signingKid)) throw new TypeError('useKeys: signingKid must name one of keys');
    handler = configure(keys, signingKid);
    state.keys = keys;
    state.signingKid = signingKid;
  };
  useKeys(state.keys);

  return {
    issuer,
    clientId,
    clientSecret,
    requests,
    get keys() {
      return state.keys;
    },
    get signingKid() {
      return state.signingKid;
    },
    createKey: createIdpKey,
    useKeys,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/**
 * A real token request (RFC 6749 §4.4, client_secret_basic per §2.3.1) with an RFC 8707 `resource`;
 * returns the access token after checking it is an RFC 9068 JWT access token (`typ: at+jwt`).
 */
export async function mintClientCredentialsToken(idp: OidcIdp, request: ClientCredentialsRequest = {}): Promise<string> {
  // RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
  const basic = Buffer.from(`${encodeURIComponent(idp.clientId)}:${encodeURIComponent(idp.clientSecret)}`).toString('base64');
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (request.resource !== undefined) form.set('resource', request.resource);
  if (request.scope !== undefined) form.set('scope', request.scope);
  const response = await fetch(`${idp.issuer}/token`, { method: 'POST', headers: { authorization: `Basic ${basic}` }, body: form });
  const body = (await response.json()) as { access_token?: unknown; token_type?: unknown; error?: unknown };
  if (response.status !== 200 || typeof body.access_token !== 'string') {
    throw new Error(`token request failed: HTTP ${response.status} ${JSON.stringify(body)}`);
  }
  const { typ } = decodeProtectedHeader(body.access_token);
  if (typ !== 'at+jwt') throw new Error(`access token has typ ${JSON.stringify(typ)}, not at+jwt (RFC 9068 §2.1)`);
  return body.access_token;
}
