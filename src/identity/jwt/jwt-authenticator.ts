import { checkIssuers } from '../../config/check-issuers.js';
import type { IdentityConfig } from '../../config/types.js';
import { ConfigError, type ConfigProblem } from '../../errors.js';
import type { Result } from '../../failure.js';
import type { JwtPrincipal } from '../../principal.js';
import type { Authenticator } from '../authenticator.js';
import { createCredentialCache } from '../credential-cache.js';
import { createFetchJson } from '../fetch-json.js';
import type { IdentityEvent } from '../identity-event.js';
import { createIssuerVerifier, type IssuerVerifier } from './issuer-verifier.js';
import { toJwtPrincipal } from './to-jwt-principal.js';
import { toReason } from './to-reason.js';
import { toTokenHash } from './token-hash.js';
import { inspectToken } from './token-shape.js';

export type BearerResult = Result<JwtPrincipal>;

/** The JWT authenticator: `Authorization: Bearer <JWT>` (RFC 6750 §2.1). */
export interface JwtAuthenticator extends Authenticator {
  readonly kind: 'jwt';
  /**
   * token = the raw JWT (without the 'Bearer ' prefix). Never throws or rejects: every failure is a
   * coded result. Synchronous for a cached token, a promise when keys had to be consulted.
   */
  authenticate(token: string): BearerResult | Promise<BearerResult>;
}

export interface JwtAuthenticatorDeps {
  /** Milliseconds since the epoch; defaults to `Date.now`. */
  now?: () => number;
  fetch?: typeof fetch;
  onEvent?: (e: IdentityEvent) => void;
  /** Config file named in ConfigErrors about issuer entries. */
  configFile?: string;
}

/**
 * Creates the bearer-token authenticator for every configured issuer (RFC 6750, RFC 7519, RFC 8725).
 * Reads secret and JWKS files and tries each remote key set once; throws ConfigError listing every
 * problem. A remote key set that cannot be fetched does not fail creation (it is reported via `onEvent`).
 */
export async function createJwtAuthenticator(identity: IdentityConfig, deps: JwtAuthenticatorDeps = {}): Promise<JwtAuthenticator> {
  const now = deps.now ?? Date.now;
  // A throwing listener must not break a background refresh (its rejection would go unhandled).
  const onEvent = (event: IdentityEvent) => {
    try {
      deps.onEvent?.(event);
    } catch {
      // the listener's problem, not the key set's
    }
  };
  const configFile = deps.configFile ?? '<config>';
  const problems: ConfigProblem[] = checkIssuers(identity.issuers, configFile);
  if (problems.length > 0) throw new ConfigError(problems);

  const ctx = { clockSkewSeconds: identity.clockSkewSeconds, now, onEvent, fetchJson: createFetchJson(deps.fetch ?? fetch) };
  const built = await Promise.all(identity.issuers.map((issuer, index) => createIssuerVerifier(issuer, index, ctx)));
  const byIssuer = new Map<string, IssuerVerifier>();
  for (const result of built) {
    if (Array.isArray(result)) problems.push(...result);
    else byIssuer.set(result.config.issuer, result);
  }
  const close = () => {
    for (const verifier of byIssuer.values()) verifier.close();
  };
  if (problems.length > 0) {
    close();
    throw new ConfigError(problems);
  }
  const cache = createCredentialCache<JwtPrincipal>(identity.tokenCacheSize, now);

  async function verifyUncached(token: string): Promise<BearerResult> {
    const inspected = inspectToken(token, identity.maxTokenBytes);
    if (!inspected.ok) return inspected;
    const { alg, iss, signingInput } = inspected.shape;
    const verifier = byIssuer.get(iss);
    if (verifier === undefined) return { ok: false, code: 'ERR_TOKEN_ISSUER', detail: 'the token issuer is not trusted' };
    if (!(verifier.config.algorithms as readonly string[]).includes(alg)) {
      return { ok: false, code: 'ERR_TOKEN_ALGORITHM', detail: 'the token algorithm is not allowed for this issuer' };
    }
    const verified = await verifier.verify(token);
    if (!verified.ok) return verified;
    // Over the signing input, not the token: every valid spelling of the signature has one hash. The
    // cache stays keyed by the raw token, so another spelling misses it and is verified on its own.
    const jwt = toJwtPrincipal(verifier.config, verified.value, toTokenHash(signingInput));
    cache.set(token, jwt);
    return { ok: true, value: jwt };
  }

  return {
    kind: 'jwt',
    scheme: 'bearer',
    headers: [],
    authenticate(token) {
      try {
        if (token.length > identity.maxTokenBytes) {
          return { ok: false, code: 'ERR_TOKEN_MALFORMED', detail: `the token is longer than ${identity.maxTokenBytes} bytes` };
        }
        const hit = cache.get(token);
        if (hit !== undefined) return { ok: true, value: hit };
      } catch (error) {
        return toReason(error);
      }
      return verifyUncached(token).catch(toReason);
    },
    keySources: () => [...byIssuer.values()].flatMap((verifier) => verifier.keyStatus() ?? []),
    cacheStats: () => ({ hits: cache.hits, misses: cache.misses }),
    close,
  };
}
