import { type CryptoKey, errors, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions, jwtVerify } from 'jose';
import { isHmacAlgorithm, issuerPath } from '../../config/check-issuers.js';
import type { IssuerConfig } from '../../config/types.js';
import { CallguardError, type ConfigProblem } from '../../errors.js';
import { fail, type Result } from '../../failure.js';
import type { FetchJson } from '../fetch-json.js';
import type { IdentityEvent } from '../identity-event.js';
import type { KeySourceStatus } from '../key-source-status.js';
import { createJwksUriResolver } from './discovery.js';
import { readHmacSecret } from './hmac-secret.js';
import { type KeySet, loadJwksFile } from './key-set.js';
import { createRemoteKeySet, type RemoteKeySet } from './remote-key-set.js';
import { toReason } from './to-reason.js';

/** Verifies tokens of one configured issuer; rejects with jose or Callguard errors (see `toReason`). */
export interface IssuerVerifier {
  readonly config: IssuerConfig;
  /** Never rejects: jose's errors (and our key lookup's, thrown inside jose's callback) become codes in toReason. */
  verify(token: string): Promise<Result<JWTPayload>>;
  /** The JWKS URL's state (`jwksUrl`, `discovery`); undefined when keys come from a file or a secret. */
  keyStatus(): KeySourceStatus | undefined;
  close(): void;
}

export interface IssuerContext {
  readonly clockSkewSeconds: number;
  readonly now: () => number;
  readonly fetchJson: FetchJson;
  readonly onEvent: (event: IdentityEvent) => void;
}

/** Tokens without a `kid` may match several keys; try at most this many (RFC 7515 §4.1.4). */
const MAX_CANDIDATE_KEYS = 8;

/** In `u` mode a surrogate pair is one code point, so this matches only unpaired surrogates. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Timeout of the one fetch made while callguard starts. */
const STARTUP_FETCH_TIMEOUT_MS = 5000;

async function createKeySet(config: IssuerConfig, index: number, ctx: IssuerContext): Promise<KeySet | RemoteKeySet | ConfigProblem | undefined> {
  if (config.jwksFile !== undefined) return loadJwksFile(config.jwksFile, `${issuerPath(index)}/jwksFile`);
  const { jwksUrl } = config;
  const resolveUrl = jwksUrl !== undefined ? async () => jwksUrl : config.discovery ? createJwksUriResolver(config.issuer, ctx.fetchJson) : undefined;
  if (resolveUrl === undefined) return undefined;
  const keySet = createRemoteKeySet({ issuer: config.name, resolveUrl, fetchJson: ctx.fetchJson, fetch: config.fetch, now: ctx.now, onEvent: ctx.onEvent });
  // The first fetch is awaited but never fails creation: an IdP that is down at start must not stop
  // callguard; its tokens get ERR_KEYS_UNAVAILABLE until it is back. That fetch is on no request's
  // path, so a cold process (whose first fetch loads Node's HTTP client) gets more than the
  // per-request budget: a slow first fetch must not cost a cooldown of denials.
  await keySet.refresh(Math.max(config.fetch.timeoutMs, STARTUP_FETCH_TIMEOUT_MS));
  return keySet;
}

const isProblem = (value: unknown): value is ConfigProblem => typeof value === 'object' && value !== null && 'message' in value;

/**
 * Creates the verifier of one issuer entry (already checked by `checkIssuers`). The key resolver
 * hands out the shared secret only for HS* and a JWKS key only for asymmetric algorithms, so a
 * public key can never be used as an HMAC secret (RFC 8725 §2.1, §3.1).
 */
export async function createIssuerVerifier(config: IssuerConfig, index: number, ctx: IssuerContext): Promise<IssuerVerifier | ConfigProblem[]> {
  const [secret, keySet] = await Promise.all([
    config.hmacSecretFile === undefined ? undefined : readHmacSecret(config.hmacSecretFile, `${issuerPath(index)}/hmacSecretFile`, config.algorithms),
    createKeySet(config, index, ctx),
  ]);
  const problems = [secret, keySet].filter(isProblem);
  if (problems.length > 0) {
    if (keySet !== undefined && !isProblem(keySet)) keySet.close();
    return problems;
  }
  const hmacSecret = secret as Uint8Array | undefined;
  const keys = keySet as KeySet | RemoteKeySet | undefined;

  const resolveKey: JWTVerifyGetKey = async (header, token) => {
    const alg = header.alg ?? '';
    if (isHmacAlgorithm(alg) ? hmacSecret === undefined : keys === undefined) {
      throw new CallguardError('ERR_TOKEN_ALGORITHM', 'the token algorithm is not allowed for this issuer');
    }
    return isHmacAlgorithm(alg) ? (hmacSecret as Uint8Array) : (keys as KeySet).getKey(header, token);
  };
  const options = (): JWTVerifyOptions => ({
    algorithms: [...config.algorithms],
    issuer: config.issuer,
    audience: [...config.audiences],
    requiredClaims: ['exp', 'sub'], // RFC 7519 §4.1.4, §4.1.2: we need an expiry and a subject
    clockTolerance: ctx.clockSkewSeconds,
    currentDate: new Date(ctx.now()),
    ...(config.tokenType !== undefined ? { typ: config.tokenType } : {}),
  });

  async function verifyWithCandidates(token: string, multiple: errors.JWKSMultipleMatchingKeys): Promise<JWTPayload> {
    let last: unknown = multiple;
    let tried = 0;
    for await (const key of multiple as unknown as AsyncIterable<CryptoKey>) {
      if (++tried > MAX_CANDIDATE_KEYS) break;
      try {
        return (await jwtVerify(token, key, options())).payload;
      } catch (error) {
        last = error;
        if (!(error instanceof errors.JWSSignatureVerificationFailed)) break;
      }
    }
    throw last;
  }

  return {
    config,
    async verify(token) {
      let payload: JWTPayload;
      try {
        try {
          payload = (await jwtVerify(token, resolveKey, options())).payload;
        } catch (error) {
          if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
          payload = await verifyWithCandidates(token, error);
        }
      } catch (error) {
        return toReason(error);
      }
      // jose checks `iat` only with maxTokenAge; a token from the future is not valid yet (RFC 7519 §4.1.6).
      const nowSeconds = Math.floor(ctx.now() / 1000);
      if (typeof payload.iat === 'number' && payload.iat > nowSeconds + ctx.clockSkewSeconds) {
        return fail('ERR_TOKEN_NOT_YET_VALID', 'the token was issued in the future ("iat")');
      }
      if (typeof payload.sub !== 'string' || payload.sub === '' || LONE_SURROGATE.test(payload.sub)) {
        return fail('ERR_TOKEN_CLAIMS', 'the "sub" claim is not a non-empty, well-formed string');
      }
      // Short-lived credentials only: a token minted to live for years is a static key in disguise.
      const lifetime = (payload.exp as number) - (typeof payload.iat === 'number' ? payload.iat : nowSeconds);
      if (lifetime > config.maxTokenLifetimeSeconds) {
        return fail('ERR_TOKEN_LIFETIME', `the token lives longer than ${config.maxTokenLifetimeSeconds} seconds`);
      }
      return { ok: true, value: payload };
    },
    keyStatus: () => (keys !== undefined && 'status' in keys ? keys.status() : undefined),
    close() {
      keys?.close();
    },
  };
}
