import { errors } from 'jose';
import type { FetchConfig } from '../../config/types.js';
import { CallguardError } from '../../errors.js';
import { createBackgroundRetry } from '../background-retry.js';
import { describeFetchError, type FetchJson } from '../fetch-json.js';
import type { IdentityEvent } from '../identity-event.js';
import type { KeySourceStatus } from '../key-source-status.js';
import { describeRefusedKeys, type KeySet, type LocalKeyLookup, toCheckedKeySet } from './key-set.js';

/** What a key set reports: failures as `warn`, successful refreshes as `info`. */

export interface RemoteKeySetOptions {
  /** Issuer name, for events. */
  readonly issuer: string;
  /** Resolves the JWKS URL: a constant, or OIDC discovery. */
  readonly resolveUrl: (signal: AbortSignal) => Promise<string>;
  readonly fetchJson: FetchJson;
  readonly fetch: FetchConfig;
  /** Milliseconds since the epoch; every freshness decision reads this clock. */
  readonly now: () => number;
  readonly onEvent: (event: IdentityEvent) => void;
}

export interface RemoteKeySet extends KeySet {
  /**
   * Fetches now, or joins the fetch in flight; never rejects (failures become events).
   * `timeoutMs` overrides `fetch.timeoutMs` (the start-up fetch is on no request's path).
   */
  refresh(timeoutMs?: number): Promise<void>;
  /** Whether keys were ever fetched, how the last attempt went, and their age (readiness, metrics). */
  status(): KeySourceStatus;
}

const unavailable = () => new CallguardError('ERR_KEYS_UNAVAILABLE', "the issuer's signing keys could not be fetched");

/**
 * Creates a JWKS kept fresh from a URL, unlike jose's `createRemoteJWKSet` which throws once its
 * cache is stale and a refetch fails. Rules (all times from `now`):
 * - older than `refreshSeconds`: refreshed in the background, the current keys keep serving;
 * - unknown `kid`: one refetch per `unknownKidCooldownSeconds`, concurrent callers share it;
 * - fetches failing: keys serve until `maxStaleSeconds` after the last success, then ERR_KEYS_UNAVAILABLE;
 * - any fetch is aborted after `timeoutMs`; failed attempts are retried at most once per cooldown;
 * - until a first fetch succeeds, one is retried in the background every cooldown, calls or not: a
 *   process that is not ready (see `status`) gets no traffic, so it must not wait for a call to retry;
 * - every fetched set goes through `checkJwk`: a refused key is dropped with a `warn` event, the rest
 *   replace the current keys (a set with no usable key leaves none: the IdP withdrew the old ones).
 */
export function createRemoteKeySet(options: RemoteKeySetOptions): RemoteKeySet {
  const { now, fetch: limits } = options;
  const refreshMs = limits.refreshSeconds * 1000;
  const cooldownMs = limits.unknownKidCooldownSeconds * 1000;
  const maxStaleMs = limits.maxStaleSeconds * 1000;
  const closing = new AbortController();
  let current: { lookup: LocalKeyLookup; fetchedAt: number } | undefined;
  let inFlight: Promise<void> | undefined;
  let lastAttemptAt = Number.NEGATIVE_INFINITY;
  let lastUnknownKidAt = Number.NEGATIVE_INFINITY;
  let lastFetchOk = false;
  const background = createBackgroundRetry(() => void refresh(), cooldownMs);

  async function load(timeoutMs: number): Promise<void> {
    // An explicit timer rather than AbortSignal.any([..., AbortSignal.timeout()]): on Node 20 a
    // signal made by any() can be collected before its timeout fires, leaving the fetch unbounded.
    const controller = new AbortController();
    const signal = controller.signal;
    const timer = setTimeout(() => controller.abort(new DOMException('timed out', 'TimeoutError')), timeoutMs);
    const onClose = () => controller.abort(closing.signal.reason);
    closing.signal.addEventListener('abort', onClose, { once: true });
    try {
      const url = await options.resolveUrl(signal);
      const { lookup, refused } = toCheckedKeySet(await options.fetchJson(url, signal));
      // Every refresh is checked like the first: a weak key added later is dropped, the rest serve.
      current = { lookup, fetchedAt: now() };
      lastFetchOk = true;
      options.onEvent({ level: 'info', msg: 'signing keys fetched', issuer: options.issuer });
      if (refused.length > 0) {
        options.onEvent({ level: 'warn', msg: `signing keys dropped: ${describeRefusedKeys(refused)}`, issuer: options.issuer });
      }
    } catch (error) {
      if (closing.signal.aborted) return;
      lastFetchOk = false;
      const msg = `fetching signing keys failed: ${describeFetchError(error)}`;
      options.onEvent({ level: 'warn', msg, issuer: options.issuer });
      if (current === undefined) background.schedule();
    } finally {
      clearTimeout(timer);
      closing.signal.removeEventListener('abort', onClose);
    }
  }

  function refresh(timeoutMs = limits.timeoutMs): Promise<void> {
    if (inFlight === undefined && !closing.signal.aborted) {
      lastAttemptAt = now();
      inFlight = load(timeoutMs).finally(() => {
        inFlight = undefined;
      });
    }
    return inFlight ?? Promise.resolve();
  }

  const usable = (at: number) => current !== undefined && at - current.fetchedAt <= maxStaleMs;
  const mayRetry = (at: number) => inFlight !== undefined || at - lastAttemptAt >= cooldownMs;

  async function keysFor(at: number): Promise<LocalKeyLookup> {
    if (!usable(at)) {
      if (mayRetry(at)) await refresh();
      if (!usable(now()) || current === undefined) throw unavailable();
      return current.lookup;
    }
    if (current === undefined) throw unavailable();
    if (at - current.fetchedAt >= refreshMs && mayRetry(at)) void refresh();
    return current.lookup;
  }

  return {
    refresh,
    status: () => ({
      name: options.issuer,
      loaded: current !== undefined,
      lastFetchOk,
      ageSeconds: current === undefined ? undefined : (now() - current.fetchedAt) / 1000,
    }),
    async getKey(header, token) {
      const at = now();
      const lookup = await keysFor(at);
      try {
        return await lookup(header, token);
      } catch (error) {
        if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
        if (inFlight === undefined) {
          // The IdP may have rotated since our last fetch (RFC 7517 §4.5 `kid`); ask once per cooldown.
          if (at - lastUnknownKidAt < cooldownMs) throw error;
          lastUnknownKidAt = at;
        }
        await refresh();
        if (current === undefined || current.lookup === lookup) throw error;
        return current.lookup(header, token);
      }
    },
    close() {
      closing.abort();
      background.stop();
    },
  };
}
