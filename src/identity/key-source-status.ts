/**
 * Where a remote key source stands (an issuer's JWKS URL, a SAML IdP's metadata URL): what
 * readiness and the key metrics read. Sources read from a file have none: they are loaded before
 * callguard starts, or it does not start.
 */
export interface KeySourceStatus {
  /** The identity source's config name. */
  readonly name: string;
  /** Keys were fetched at least once (they may have gone stale since). */
  readonly loaded: boolean;
  /** The last fetch attempt succeeded. */
  readonly lastFetchOk: boolean;
  /** Seconds since the last successful fetch; undefined before the first. */
  readonly ageSeconds: number | undefined;
}
