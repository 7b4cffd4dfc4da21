import { createHash, X509Certificate } from 'node:crypto';

const cache = new Map<string, string | undefined>();
const CACHE_SIZE = 1024;

/**
 * RFC 8705 §3.1 `x5t#S256`: base64url SHA-256 of the DER of the client certificate Envoy verified
 * (from its PEM, `include_peer_certificate: true`). Cached per certificate (bounded); undefined for a
 * PEM that does not parse.
 */
export function certificateThumbprint(pem: string): string | undefined {
  if (cache.has(pem)) return cache.get(pem);
  let thumbprint: string | undefined;
  try {
    thumbprint = createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url');
  } catch {
    thumbprint = undefined;
  }
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(pem, thumbprint);
  return thumbprint;
}
