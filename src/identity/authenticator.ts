import type { CallAttempt } from '../call-attempt.js';
import type { Result } from '../failure.js';
import type { CredentialPrincipal } from '../principal.js';
import type { KeySourceStatus } from './key-source-status.js';

/**
 * One kind of credential a caller presents in a header: a JWT, an API key, a SAML assertion.
 * Adding a kind is a folder (its authenticator and tests) and its schema section, plus one line
 * each where the kind is named: its principal in principal.ts, its construction in
 * create-authenticators.ts, its source name in identity-sources.ts, and, if it has an id worth
 * logging, a field in the decision record.
 */
export interface Authenticator {
  readonly kind: CredentialPrincipal['kind'];
  /** `Authorization` scheme it answers to, lower-case (`bearer`, `apikey`, `saml`). */
  readonly scheme: string;
  /** Other request headers that carry this credential (lower-case), e.g. `x-api-key`. */
  readonly headers: readonly string[];
  /** Headers that go with the credential and are removed upstream with it (a DPoP proof). */
  readonly strip?: readonly string[];
  /**
   * Verifies the credential (the header value after the scheme, untrusted and unparsed). Never
   * throws or rejects: every failure is a coded {@link Result}. Synchronous when nothing had to
   * wait (a cached token, a key lookup), a promise otherwise.
   */
  authenticate(credential: string, request?: CallAttempt): AuthResult | Promise<AuthResult>;
  /** Its remote key sources (JWKS or metadata URLs), for readiness and metrics; none when absent. */
  keySources?(): readonly KeySourceStatus[];
  /** Its cache of verified credentials, when it has one: lookups that hit and missed so far. */
  cacheStats?(): { readonly hits: number; readonly misses: number };
  /** Stops background work (key refreshes, file watches). */
  close(): void;
}

export type AuthResult = Result<CredentialPrincipal>;
