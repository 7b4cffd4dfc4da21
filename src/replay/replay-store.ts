/**
 * Where single-use credentials are remembered (a JWT's `iss` + `jti`, a SAML assertion's ID): the
 * first `claim` of a key wins, every later one within its time to live loses.
 */
export interface ReplayStore {
  /**
   * Remembers `key` for `ttlMs` and says whether it was new. Atomic: of two concurrent claims of one
   * key exactly one gets `true`. Synchronous in memory, a promise for a shared store; never rejects:
   * a store that cannot answer says so with `unavailable`, and the call is refused (fail closed).
   */
  claim(key: string, ttlMs: number): ClaimResult | Promise<ClaimResult>;
  close(): void;
}

export type ClaimResult = 'first' | 'replayed' | 'unavailable';
