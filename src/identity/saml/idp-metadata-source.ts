import { readFileSync } from 'node:fs';
import type { SamlIdpConfig } from '../../config/types.js';
import type { ConfigProblem } from '../../errors.js';
import { createBackgroundRetry } from '../background-retry.js';
import { MAX_KEY_DOCUMENT_BYTES, readCapped } from '../fetch-json.js';
import type { KeySourceStatus } from '../key-source-status.js';
import { type IdpMetadata, readIdpMetadata } from './read-idp-metadata.js';

export interface MetadataSourceDeps {
  readonly now: () => number;
  readonly fetch: typeof fetch;
  readonly onEvent: (event: { level: 'warn' | 'info'; msg: string; issuer: string }) => void;
}

/** An IdP's metadata: the current one, and whether it may still be used. */
export interface IdpMetadataSource {
  /** The metadata to verify with, or undefined when none was ever fetched or it is past `maxStaleSeconds`. */
  current(): IdpMetadata | undefined;
  /** The entity ID last seen, even when stale: chooses the IdP of an assertion, verifies nothing. */
  entityId(): string | undefined;
  /**
   * A signature did not verify: the IdP may have rolled its signing key over since the last fetch.
   * Refetches at most once per `unknownKidCooldownSeconds`; true when the certificates changed.
   */
  refetchAfterFailure(): Promise<boolean>;
  /** The metadata URL's state (readiness, metrics); undefined for `metadataFile`. */
  status(): KeySourceStatus | undefined;
  close(): void;
}

/** Timeout of the one fetch made while callguard starts (no request waits on it), as for a JWKS. */
const STARTUP_FETCH_TIMEOUT_MS = 5000;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Loads an IdP's metadata from `metadataFile` (at start; a problem stops start-up) or `metadataUrl`,
 * with a JWKS's rules (see remote-key-set.ts): fetched at start with a start-up budget (an IdP that is
 * down does not stop start-up: SAML calls get ERR_KEYS_UNAVAILABLE until a fetch succeeds); older than
 * `refreshSeconds`, refreshed in the background while the current one serves; failing fetches keep the
 * last good metadata until `maxStaleSeconds` after its fetch; a failed attempt is retried at most once
 * per `unknownKidCooldownSeconds`, and so is a refetch after a signature that did not verify. Until a
 * first fetch succeeds, one is retried in the background every cooldown (as a JWKS is: remote-key-set.ts).
 */
export async function createIdpMetadataSource(
  idp: SamlIdpConfig,
  at: string,
  configFile: string,
  deps: MetadataSourceDeps,
): Promise<IdpMetadataSource | ConfigProblem[]> {
  if (idp.metadataFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(idp.metadataFile, 'utf8');
    } catch (err) {
      return [
        {
          file: configFile,
          path: `${at}/metadataFile`,
          message: `cannot read ${JSON.stringify(idp.metadataFile)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        },
      ];
    }
    const read = readIdpMetadata(text);
    if (!read.ok) return [{ file: configFile, path: `${at}/metadataFile`, message: `${idp.metadataFile}: ${read.problem}` }];
    const metadata = read.value;
    return { current: () => metadata, entityId: () => metadata.entityId, refetchAfterFailure: async () => false, status: () => undefined, close: () => {} };
  }
  const url = idp.metadataUrl as string;
  const { now } = deps;
  const refreshMs = idp.fetch.refreshSeconds * 1000;
  const cooldownMs = idp.fetch.unknownKidCooldownSeconds * 1000;
  const maxStaleMs = idp.fetch.maxStaleSeconds * 1000;
  const closing = new AbortController();
  let metadata: IdpMetadata | undefined;
  let fetchedAt = 0;
  let inFlight: Promise<void> | undefined;
  let lastAttemptAt = Number.NEGATIVE_INFINITY;
  let lastFailureRefetchAt = Number.NEGATIVE_INFINITY;
  let lastFetchOk = false;
  const background = createBackgroundRetry(() => void refresh(), cooldownMs);

  async function load(timeoutMs: number): Promise<void> {
    const controller = new AbortController();
    // An explicit timer (see remote-key-set.ts: an AbortSignal.any() may be collected before it fires on Node 20).
    const timer = setTimeout(() => controller.abort(new DOMException('timed out', 'TimeoutError')), timeoutMs);
    const onClose = () => controller.abort(closing.signal.reason);
    closing.signal.addEventListener('abort', onClose, { once: true });
    try {
      const next = await fetchMetadata(url, controller.signal, deps.fetch);
      const changed = metadata === undefined || JSON.stringify(next) !== JSON.stringify(metadata);
      metadata = next;
      fetchedAt = now();
      lastFetchOk = true;
      if (changed) deps.onEvent({ level: 'info', msg: `SAML metadata fetched: ${next.signingCertificates.length} signing certificate(s)`, issuer: idp.name });
    } catch (err) {
      if (closing.signal.aborted) return;
      lastFetchOk = false;
      if (metadata === undefined) background.schedule();
      const stale = metadata === undefined ? 'no metadata yet: SAML calls are refused' : 'keeping the last good metadata';
      deps.onEvent({ level: 'warn', msg: `SAML metadata fetch failed (${stale}): ${err instanceof Error ? err.message : String(err)}`, issuer: idp.name });
    } finally {
      clearTimeout(timer);
      closing.signal.removeEventListener('abort', onClose);
    }
  }

  function refresh(timeoutMs = idp.fetch.timeoutMs): Promise<void> {
    if (inFlight === undefined && !closing.signal.aborted) {
      lastAttemptAt = now();
      inFlight = load(timeoutMs).finally(() => {
        inFlight = undefined;
      });
    }
    return inFlight ?? Promise.resolve();
  }

  const mayRetry = (t: number) => inFlight === undefined && t - lastAttemptAt >= cooldownMs;
  await refresh(Math.max(idp.fetch.timeoutMs, STARTUP_FETCH_TIMEOUT_MS));
  return {
    current() {
      const t = now();
      const usable = metadata !== undefined && t - fetchedAt <= maxStaleMs;
      // Stale or missing: try again in the background (this call is refused); old: refresh while it serves.
      if ((!usable && mayRetry(t)) || (usable && t - fetchedAt >= refreshMs && mayRetry(t))) void refresh();
      return usable ? metadata : undefined;
    },
    entityId: () => metadata?.entityId,
    async refetchAfterFailure() {
      const t = now();
      if (inFlight === undefined && t - lastFailureRefetchAt < cooldownMs) return false;
      lastFailureRefetchAt = t;
      const before = metadata;
      await refresh();
      return metadata !== before && JSON.stringify(metadata?.signingCertificates) !== JSON.stringify(before?.signingCertificates);
    },
    status: () => ({
      name: idp.name,
      loaded: metadata !== undefined,
      lastFetchOk,
      ageSeconds: metadata === undefined ? undefined : (now() - fetchedAt) / 1000,
    }),
    close: () => {
      closing.abort();
      background.stop();
    },
  };
}

async function fetchMetadata(url: string, signal: AbortSignal, fetchImpl: typeof fetch): Promise<IdpMetadata> {
  // No redirects: a redirect could lead from the configured https URL to plain http or elsewhere.
  const response = await fetchImpl(url, { signal, redirect: 'error', headers: { accept: 'application/samlmetadata+xml, application/xml' } });
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new Error(`GET ${url}: HTTP ${response.status}`);
  }
  const text = utf8.decode(await readCapped(response, MAX_KEY_DOCUMENT_BYTES));
  const read = readIdpMetadata(text);
  if (!read.ok) throw new Error(`${url}: ${read.problem}`);
  return read.value;
}
