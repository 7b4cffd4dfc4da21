import type { IssuerConfig, JwtAlgorithm } from '../config/types.js';
import type { ConfigProblem } from '../errors.js';

/** RFC 7518 §3.2: the HMAC algorithms, verified with a shared secret rather than a public key. */
export function isHmacAlgorithm(alg: string): alg is Extract<JwtAlgorithm, `HS${string}`> {
  return alg === 'HS256' || alg === 'HS384' || alg === 'HS512';
}

/** JSON pointer of issuer `index` in the config. */
export function issuerPath(index: number): string {
  return `/identity/issuers/${index}`;
}

/**
 * Checks what the JSON Schema cannot: exactly one key source for asymmetric algorithms, HS* only
 * with `hmacSecretFile`, and no two entries for the same `iss`. Returns every problem found.
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
    const hmac = issuer.algorithms.filter(isHmacAlgorithm);
    const asymmetric = issuer.algorithms.length - hmac.length;
    if (sources > 1) problem('', 'set exactly one of jwksUrl, discovery, jwksFile');
    if (asymmetric > 0 && sources === 0) problem('', 'asymmetric algorithms need one of jwksUrl, discovery, jwksFile');
    if (asymmetric === 0 && sources > 0) problem('/algorithms', 'a key set is configured but only HS* algorithms are allowed');
    if (hmac.length > 0 && issuer.hmacSecretFile === undefined) {
      problem('/algorithms', `${hmac.join(', ')} requires hmacSecretFile`);
    }
    if (hmac.length === 0 && issuer.hmacSecretFile !== undefined) {
      problem('/hmacSecretFile', 'an HMAC secret is configured but no HS* algorithm is allowed');
    }
  }
  return problems;
}
