import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from 'jose';

/** How the test issuer's HTTP endpoints (JWKS and discovery) behave. */
export type IssuerMode = 'ok' | 'error' | 'hang' | 'refuse';

export interface TestKey {
  readonly alg: 'RS256' | 'ES256';
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  /** The public JWK as published (with `kid`, `alg`, `use`). */
  readonly publicJwk: JWK;
  /** The public key as SPKI PEM: the bytes an attacker would use as an HMAC secret. */
  readonly spkiPem: string;
}

export interface MintOptions {
  /** Defaults to the key's alg, or HS256 when `key` is a secret. */
  readonly alg?: string;
  /** Signing key: a TestKey (default: the RS256 key) or raw HMAC secret bytes. */
  readonly key?: TestKey | Uint8Array;
  /** Merged over the defaults (`iss`, `sub`, `aud`, `iat`, `exp`); `undefined` removes a claim. */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** Merged over `{ alg, kid }`; `undefined` removes a parameter. */
  readonly header?: Readonly<Record<string, unknown>>;
}

export interface TestIssuerOptions {
  /** Clock for default `iat`/`exp`, ms since the epoch (default `Date.now`). */
  readonly now?: () => number;
  /** Default `aud` (default `callguard`). */
  readonly audience?: string;
  /** `issuer` the discovery document claims (default: the issuer URL itself). */
  readonly discoveryIssuer?: string;
}

export interface TestIssuer {
  /** The issuer identifier: `http://127.0.0.1:<port>`; also the default `iss`. */
  readonly url: string;
  readonly jwksUrl: string;
  readonly rs256: TestKey;
  readonly es256: TestKey;
  /** Requests served so far, by endpoint. */
  readonly requests: { readonly jwks: number; readonly discovery: number };
  /** Makes a new key (not published until `publish`). */
  createKey(alg: 'RS256' | 'ES256', kid?: string): Promise<TestKey>;
  /** Replaces the published JWKS with exactly these keys. */
  publish(...keys: TestKey[]): void;
  setMode(mode: IssuerMode): void;
  mint(options?: MintOptions): Promise<string>;
  close(): Promise<void>;
}

let kidCounter = 0;

export async function createTestKey(alg: 'RS256' | 'ES256', kid = `${alg.toLowerCase()}-${++kidCounter}`): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicKey, publicJwk, spkiPem: await exportSPKI(publicKey) };
}

/** base64url of a JSON value: for hand-made tokens. */
export function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** An unsigned-looking compact token with any header and payload (the signature is junk). */
export function forgeToken(header: unknown, payload: unknown, signature = 'c2lnbmF0dXJl'): string {
  return `${encodeSegment(header)}.${encodeSegment(payload)}.${signature}`;
}

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

/**
 * Starts a fake OIDC issuer on 127.0.0.1:0 with an RS256 and an ES256 key, serving
 * `/jwks` and `/.well-known/openid-configuration`, and mints tokens. Resolves once listening.
 */
export async function createTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const now = options.now ?? Date.now;
  const [rs256, es256] = await Promise.all([createTestKey('RS256'), createTestKey('ES256')]);
  let published: TestKey[] = [rs256, es256];
  let mode: IssuerMode = 'ok';
  const requests = { jwks: 0, discovery: 0 };
  const hanging = new Set<ServerResponse>();
  let url = '';

  const server = createServer((req, res) => {
    const path = req.url ?? '';
    if (path === '/jwks') requests.jwks += 1;
    else if (path === '/.well-known/openid-configuration') requests.discovery += 1;
    if (mode === 'refuse') return void req.socket.destroy();
    if (mode === 'hang') return void hanging.add(res);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (mode === 'error') return send(503, { error: 'unavailable' });
    if (path === '/jwks') return send(200, { keys: published.map((key) => key.publicJwk) });
    if (path === '/.well-known/openid-configuration') {
      return send(200, { issuer: options.discoveryIssuer ?? url, jwks_uri: `${url}/jwks` });
    }
    send(404, { error: 'not found' });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    jwksUrl: `${url}/jwks`,
    rs256,
    es256,
    requests,
    createKey: createTestKey,
    publish(...keys) {
      published = keys;
    },
    setMode(next) {
      mode = next;
    },
    async mint({ key = rs256, alg, claims = {}, header = {} } = {}) {
      const secret = key instanceof Uint8Array;
      const nowSeconds = Math.floor(now() / 1000);
      const payload = withoutUndefined({ iss: url, sub: 'user-1', aud: options.audience ?? 'callguard', iat: nowSeconds, exp: nowSeconds + 300, ...claims });
      const protectedHeader = withoutUndefined({ alg: alg ?? (secret ? 'HS256' : key.alg), kid: secret ? undefined : key.kid, ...header });
      return new SignJWT(payload).setProtectedHeader(protectedHeader as { alg: string }).sign(secret ? key : key.privateKey);
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
