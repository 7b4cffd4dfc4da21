import type { Config } from '../config/types.js';
import { ConfigError, type ConfigProblem } from '../errors.js';
import type { ReplayStore } from '../replay/replay-store.js';
import { createApiKeyAuthenticator } from './api-key/api-key-authenticator.js';
import type { Authenticator } from './authenticator.js';
import { createDpopAuthenticator } from './dpop/dpop-authenticator.js';
import type { IdentityEvent } from './identity-event.js';
import { createJwtAuthenticator } from './jwt/jwt-authenticator.js';
import { createSamlAuthenticator } from './saml/saml-authenticator.js';

export interface AuthenticatorDeps {
  /** Milliseconds since the epoch; defaults to `Date.now`. */
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
  /** Background events worth a log line (key refreshes, reloads, expiring keys). */
  readonly onEvent?: (event: IdentityEvent) => void;
  /** Where DPoP proof `jti`s are remembered (the single-use store). */
  readonly replay: ReplayStore;
}

/**
 * Builds one authenticator per configured credential kind: JWT always (a bearer token with no
 * issuer configured is refused as untrusted), the others when configured. Loads every key, file and
 * metadata document; throws one ConfigError listing every problem of every kind.
 */
export async function createAuthenticators(config: Config, deps: AuthenticatorDeps): Promise<Authenticator[]> {
  const common = { configFile: config.file, ...(deps.now ? { now: deps.now } : {}), ...(deps.onEvent ? { onEvent: deps.onEvent } : {}) };
  const jwt = createJwtAuthenticator(config.identity, { ...common, ...(deps.fetch ? { fetch: deps.fetch } : {}) });
  const dpopPolicy = {
    algorithms: config.identity.dpop.algorithms,
    maxAgeSeconds: config.identity.dpop.maxAgeSeconds,
    clockSkewSeconds: config.identity.clockSkewSeconds,
  };
  // DPoP is the JWT authenticator plus a proof: same issuers, same cache, another scheme.
  // (A JWT failure is reported once, by the JWT build.)
  const dpop = jwt.then(
    (bearer) => createDpopAuthenticator({ jwt: bearer, replay: deps.replay, policy: dpopPolicy, now: deps.now ?? Date.now }),
    () => undefined,
  );
  const builds: Promise<Authenticator | undefined>[] = [jwt, dpop];
  builds.push(createSamlAuthenticator(config.identity, { ...common, ...(deps.fetch ? { fetch: deps.fetch } : {}) }));
  const apiKeys = config.identity.apiKeys;
  if (apiKeys !== undefined) builds.push(settle(() => createApiKeyAuthenticator(apiKeys, { ...common, recentCapacity: config.identity.tokenCacheSize })));
  const settled = await Promise.allSettled(builds);
  const built: Authenticator[] = [];
  const problems: ConfigProblem[] = [];
  let unexpected: unknown;
  for (const result of settled) {
    if (result.status === 'fulfilled') {
      if (result.value !== undefined) built.push(result.value);
    } else if (result.reason instanceof ConfigError) problems.push(...result.reason.problems);
    else unexpected ??= result.reason;
  }
  if (unexpected !== undefined || problems.length > 0) {
    // Whatever was built stops its timers: a refused start leaves nothing running.
    for (const authenticator of built) authenticator.close();
    throw unexpected ?? new ConfigError(problems);
  }
  return built;
}

/** A synchronous build as a promise, so its ConfigError is collected with the others. */
async function settle<T>(build: () => T): Promise<T> {
  return build();
}
