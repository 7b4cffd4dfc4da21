import type { ConfigProblem } from '../errors.js';
import type { IssuerConfig, JwtAlgorithm } from './types.js';

/** RFC 7518 §3.2: the HMAC algorithms, verified with a shared secret rather than a public key. */
export function isHmacAlgorithm(alg: string): alg is Extract<JwtAlgorithm, `HS${string}`> {
  return alg === 'HS256' || alg === 'HS384' || alg === 'HS512';
}

/** JSON pointer of issuer `index` in the config. */
export function issuerPath(index: number): string {
  return `/identity/issuers/${index}`;
}

/**
 * Issuer rules the JSON Schema cannot express: exactly one key source for asymmetric algorithms,
 * HS* only with `hmacSecretFile` (and a secret only with HS*), no two entries for the same `iss`.
 * The one place for them: config loading reports them, and the verifier re-checks what it is given.
 */
export function checkIssuers(issuers: readonly IssuerConfig[], configFile: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Map<string, number>();
  for (const [index, issuer] of issuers.entries()) {
    const path = issuerPath(index);
    const problem = (suffix: string, message: string) => problems.push({ file: configFile, path: path + suffix, message });
    const earlier = seen.get(issuer.issuer);
    if (earlier !== undefined) problem('/issuer', `same issuer as ${issuerPath(earlier)}; tokens could not be routed`);
    seen.set(issuer.issuer, index);

    const sources = [issuer.jwksUrl !== undefined, issuer.discovery, issuer.jwksFile !== undefined].filter(Boolean).length;
    const hmac = issuer.algorithms.some(isHmacAlgorithm);
    const asymmetric = issuer.algorithms.some((alg) => !isHmacAlgorithm(alg));
    if (asymmetric && sources !== 1) problem('', 'exactly one of jwksUrl, discovery, jwksFile is required for asymmetric algorithms');
    if (!asymmetric && sources > 0) problem('/algorithms', 'jwksUrl/discovery/jwksFile given but only HS* algorithms are allowed');
    if (hmac && issuer.hmacSecretFile === undefined) problem('/algorithms', 'HS* algorithms require hmacSecretFile');
    if (!hmac && issuer.hmacSecretFile !== undefined) problem('/hmacSecretFile', 'hmacSecretFile given but no HS* algorithm is allowed');
  }
  return problems;
}
