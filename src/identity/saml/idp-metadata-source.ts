import { readFileSync } from 'node:fs';
import type { SamlIdpConfig } from '../../config/types.js';
import type { ConfigProblem } from '../../errors.js';
import { MAX_KEY_DOCUMENT_BYTES, readCapped } from '../fetch-json.js';
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
  close(): void;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Loads an IdP's metadata from `metadataFile` (at start; a problem stops start-up) or `metadataUrl`
 * (fetched at start and refreshed every `fetch.refreshSeconds`; like a JWKS, a failed fetch keeps the
 * last good metadata for `fetch.maxStaleSeconds` past its last success, and a URL that cannot be
 * fetched at start does not stop start-up: calls are refused with ERR_KEYS_UNAVAILABLE until it can).
 */
export async function createIdpMetadataSource(idp: SamlIdpConfig, at: string, configFile: string, deps: MetadataSourceDeps): Promise<IdpMetadataSource | ConfigProblem[]> {
  if (idp.metadataFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(idp.metadataFile, 'utf8');
    } catch (err) {
      return [{ file: configFile, path: `${at}/metadataFile`, message: `cannot read ${JSON.stringify(idp.metadataFile)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }];
    }
    const read = readIdpMetadata(text);
    if (!read.ok) return [{ file: configFile, path: `${at}/metadataFile`, message: `${idp.metadataFile}: ${read.problem}` }];
    const metadata = read.value;
    return { current: () => metadata, close: () => {} };
  }
  const url = idp.metadataUrl as string;
  let metadata: IdpMetadata | undefined;
  let fetchedAt = 0;
  let running: Promise<void> | undefined;
  const refresh = (): Promise<void> => {
    running ??= fetchMetadata(url, idp.fetch.timeoutMs, deps.fetch)
      .then((next) => {
        const changed = metadata === undefined || JSON.stringify(next) !== JSON.stringify(metadata);
        metadata = next;
        fetchedAt = deps.now();
        if (changed) deps.onEvent({ level: 'info', msg: `SAML metadata fetched: ${next.signingCertificates.length} signing certificate(s)`, issuer: idp.name });
      })
      .catch((err: unknown) => {
        const stale = metadata === undefined ? 'no metadata yet: SAML calls are refused' : 'keeping the last good metadata';
        deps.onEvent({ level: 'warn', msg: `SAML metadata fetch failed (${stale}): ${err instanceof Error ? err.message : String(err)}`, issuer: idp.name });
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  await refresh();
  const timer = setInterval(() => void refresh(), idp.fetch.refreshSeconds * 1000);
  timer.unref();
  return {
    current() {
      if (metadata === undefined) return undefined;
      return deps.now() - fetchedAt > idp.fetch.maxStaleSeconds * 1000 ? undefined : metadata;
    },
    close: () => clearInterval(timer),
  };
}

async function fetchMetadata(url: string, timeoutMs: number, fetchImpl: typeof fetch): Promise<IdpMetadata> {
  // No redirects: a redirect could lead from the configured https URL to plain http or elsewhere.
  const response = await fetchImpl(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error', headers: { accept: 'application/samlmetadata+xml, application/xml' } });
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new Error(`GET ${url}: HTTP ${response.status}`);
  }
  const text = utf8.decode(await readCapped(response, MAX_KEY_DOCUMENT_BYTES));
  const read = readIdpMetadata(text);
  if (!read.ok) throw new Error(`${url}: ${read.problem}`);
  return read.value;
}
