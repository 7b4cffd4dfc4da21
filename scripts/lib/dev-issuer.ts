import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';

/** The example issuer of examples/callguard.yaml: keep these three in step with that file. */
export const DEV_ISSUER = 'https://issuer.example.test';
export const DEV_AUDIENCE = 'callguard';
const ALG = 'ES256';

/** File names inside the dev PKI directory (git-ignored `.dev-pki/` by default). */
export const PRIVATE_JWK_FILE = 'jwt-signing.private.jwk.json';
export const JWKS_FILE = 'jwks.json';
/** The example's API keys file (`callguard keys` adds to it); created empty beside the dev JWKS. */
export const KEYS_FILE = 'keys.json';

/** A local JWT issuer for development and tests: its private key never leaves `dir`. */
export interface DevIssuer {
  readonly jwksPath: string;
  readonly kid: string;
  mint(claims: DevTokenClaims): Promise<string>;
}

export interface DevTokenClaims {
  readonly subject: string;
  readonly groups?: readonly string[];
  readonly audience?: string;
  readonly issuer?: string;
  /** Seconds until `exp` (default 3600). */
  readonly ttlSeconds?: number;
  readonly jti?: string;
  /** Other claims (a CI job's `repository`, `ref`…), set before the registered ones above. */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/**
 * Load the dev issuer's key from `dir`, creating the key pair and its public JWKS on first use.
 * Why a file and not a committed key: no private key is ever committed (issue 3).
 */
export async function ensureDevIssuer(dir: string): Promise<DevIssuer> {
  const privatePath = path.join(dir, PRIVATE_JWK_FILE);
  const jwksPath = path.join(dir, JWKS_FILE);
  let privateJwk: JWK;
  if (existsSync(privatePath)) {
    privateJwk = JSON.parse(await readFile(privatePath, 'utf8')) as JWK;
  } else {
    const pair = await generateKeyPair(ALG, { extractable: true });
    privateJwk = await exportJWK(pair.privateKey);
    privateJwk.kid = await calculateJwkThumbprint(privateJwk);
    privateJwk.alg = ALG;
    await mkdir(dir, { recursive: true });
    await writeFile(privatePath, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600 });
  }
  const kid = privateJwk.kid;
  if (typeof kid !== 'string') throw new TypeError(`${privatePath}: the key has no kid`);
  const keysPath = path.join(dir, KEYS_FILE);
  if (!existsSync(keysPath)) await writeFile(keysPath, `${JSON.stringify({ version: 1, keys: [] }, null, 2)}\n`, { mode: 0o644 });
  if (!existsSync(jwksPath)) {
    const { d: _private, ...publicJwk } = privateJwk;
    const jwks = { keys: [{ ...publicJwk, use: 'sig', alg: ALG }] };
    await writeFile(jwksPath, `${JSON.stringify(jwks, null, 2)}\n`, { mode: 0o644 });
  }
  const key = await importJWK(privateJwk, ALG);
  return {
    jwksPath,
    kid,
    async mint(claims) {
      let jwt = new SignJWT({ ...claims.extra, groups: [...(claims.groups ?? [])] })
        .setProtectedHeader({ alg: ALG, kid, typ: 'JWT' })
        .setIssuer(claims.issuer ?? DEV_ISSUER)
        .setAudience(claims.audience ?? DEV_AUDIENCE)
        .setSubject(claims.subject)
        .setIssuedAt()
        .setExpirationTime(`${claims.ttlSeconds ?? 3600}s`);
      if (claims.jti !== undefined) jwt = jwt.setJti(claims.jti);
      return jwt.sign(key);
    },
  };
}
