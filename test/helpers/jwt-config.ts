import type { FetchConfig, IdentityConfig, IssuerConfig } from '../../src/config/types.js';

/** Schema defaults for `fetch` (see src/config/schema.json). */
export const DEFAULT_FETCH: FetchConfig = { timeoutMs: 150, refreshSeconds: 300, unknownKidCooldownSeconds: 30, maxStaleSeconds: 3600 };

/**
 * What {@link testIssuerConfig} uses: the schema defaults but a 2 s timeout, because a process's first
 * `fetch` loads undici and a loaded CI box can exceed 150 ms; tests about timeouts set their own.
 */
export const TEST_FETCH: FetchConfig = { ...DEFAULT_FETCH, timeoutMs: 2000 };

/** Overrides for {@link testIssuerConfig}; `undefined` removes an optional field (e.g. `jwksUrl`). */
export type IssuerOverrides = { [K in Exclude<keyof IssuerConfig, 'fetch'>]?: IssuerConfig[K] | undefined } & {
  fetch?: Partial<FetchConfig>;
};

/** An issuer entry as the config loader would produce it; `jwksUrl` defaults to the test issuer's. */
export function testIssuerConfig(issuer: { url: string; jwksUrl: string } | undefined, overrides: IssuerOverrides = {}): IssuerConfig {
  const { fetch, ...rest } = overrides;
  const base: IssuerConfig = {
    name: 'test',
    issuer: issuer?.url ?? 'https://issuer.test',
    audiences: ['callguard'],
    algorithms: ['RS256', 'ES256'],
    groupsClaim: 'groups',
    maxTokenLifetimeSeconds: 86400,
    discovery: false,
    fetch: { ...TEST_FETCH, ...fetch },
    ...(issuer === undefined ? {} : { jwksUrl: issuer.jwksUrl }),
  };
  const merged: Record<string, unknown> = { ...base, ...rest };
  for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
  return merged as unknown as IssuerConfig;
}

/** An identity section with schema defaults around the given issuers. */
export function testIdentityConfig(issuers: readonly IssuerConfig[], overrides: Partial<Omit<IdentityConfig, 'issuers'>> = {}): IdentityConfig {
  return {
    clockSkewSeconds: 30,
    maxTokenBytes: 8192,
    tokenCacheSize: 100,
    spiffe: { trustDomains: [] },
    saml: [],
    dpop: { algorithms: ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'], maxAgeSeconds: 60 },
    issuers,
    ...overrides,
  } as IdentityConfig;
}
