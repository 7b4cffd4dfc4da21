/** Bodies larger than this are refused: a JWKS or discovery document is a few KiB. */
export const MAX_KEY_DOCUMENT_BYTES = 1024 * 1024;

/** Fetches a JSON document (JWKS, OIDC discovery); rejects with a log-safe Error on any problem. */
export type FetchJson = (url: string, signal: AbortSignal) => Promise<unknown>;

// RFC 7517 §8.5 registers application/jwk-set+json; accept application/json and any +json type.
const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads a response body, refusing one over `maxBytes` (declared or actual). */
export async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > maxBytes) throw new Error(`body of ${declared} bytes exceeds ${maxBytes}`);
  const reader = response.body?.getReader();
  if (reader === undefined) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new Error(`body exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

/** Creates a {@link FetchJson} over `fetchImpl` that checks status, media type and body size. */
export function createFetchJson(fetchImpl: typeof fetch, maxBytes = MAX_KEY_DOCUMENT_BYTES): FetchJson {
  return async (url, signal) => {
    // No redirects: a redirect could lead from the configured https URL to plain http or elsewhere.
    const response = await fetchImpl(url, { signal, redirect: 'error', headers: { accept: 'application/json' } });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new Error(`GET ${url}: HTTP ${response.status}`);
    }
    const mediaType = response.headers.get('content-type') ?? '';
    if (!JSON_MEDIA_TYPE.test(mediaType)) {
      await response.body?.cancel();
      throw new Error(`GET ${url}: content-type "${mediaType}" is not JSON`);
    }
    const body = await readCapped(response, maxBytes);
    try {
      return JSON.parse(utf8.decode(body)) as unknown;
    } catch {
      throw new Error(`GET ${url}: body is not valid JSON`);
    }
  };
}

/** Log-safe text for a fetch failure (`AbortSignal.timeout` rejects with a `TimeoutError`). */
export function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError') return 'timed out';
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}
