import type { CallAttempt, PeerCertificate } from '../call-attempt.js';
import type { CheckRequestFacts, PeerFacts } from './read-check-request.js';

export type AttemptResult = { ok: true; attempt: CallAttempt } | { ok: false; internal: string };

/** Envoy's header for a body cut at `max_request_bytes` (it drops any client-sent copy first). */
const PARTIAL_BODY = 'x-envoy-auth-partial-body';

/**
 * CheckRequest (read by readCheckRequest, or any generated `CheckRequest`) → CallAttempt. Only facts Envoy sets itself decide transport security:
 * - TLS: `destination.principal` is filled from Envoy's own certificate only when the downstream
 *   connection has TLS (Envoy check_request_utils.cc setAttrContextPeer, `connection.ssl()`).
 *   `:scheme` and `x-forwarded-proto` are caller-controlled on HTTP/2 and are never consulted.
 * - Peer: `source.principal` is set only for a certificate the TLS handshake verified;
 *   `source.certificate` (include_peer_certificate) is its URL-encoded PEM.
 */
export function toCallAttempt(request: CheckRequestFacts): AttemptResult {
  const attrs = request.attributes;
  const http = attrs?.request?.http;
  if (attrs === undefined || http === undefined) return { ok: false, internal: 'CheckRequest has no attributes.request.http' };
  if (http.method === '' || http.path === '') return { ok: false, internal: 'CheckRequest has no method or path' };
  // Envoy always forwards the pseudo-headers in `headers` (they are added even to `allowed_headers`).
  // Without them the map is not the request's headers (e.g. `encode_raw_headers: true` moves them to
  // `header_map`), and callguard could neither see the credential nor remove spoofed identity headers.
  if (http.headers[':method'] === undefined) return { ok: false, internal: 'CheckRequest headers lack :method (encode_raw_headers is not supported)' };

  const headers = http.headers;
  const bytes = http.rawBody.length > 0 ? http.rawBody : http.body.length > 0 ? new TextEncoder().encode(http.body) : undefined;
  const sni = attrs.tlsSession?.sni;
  const peer = toPeer(attrs.source);
  const tls = (attrs.destination?.principal ?? '') !== '';

  const attempt: CallAttempt = {
    requestId: headers['x-request-id'] ?? http.id,
    method: http.method,
    path: http.path,
    host: http.host,
    headers,
    contextExtensions: attrs.contextExtensions,
    transport: { tls, ...(sni ? { sni } : {}), ...(peer && tls ? { peer } : {}) },
    body: { bytes, partial: headers[PARTIAL_BODY] === 'true' },
    sourceAddress: toAddress(attrs.source),
  };
  return { ok: true, attempt };
}

/**
 * Decoded peer certificates by their URL-encoded form. Callers reuse connections and certificates,
 * so this saves a decode per call, and hands verify-peer the same string instance each time.
 */
const decodedCertificates = new Map<string, PeerCertificate | undefined>();
const MAX_DECODED_CERTIFICATES = 1024;

function toPeer(source: PeerFacts | undefined): PeerCertificate | undefined {
  if (source === undefined || source.principal === '') return undefined;
  if (source.certificate === '') return { principal: source.principal };
  const cached = decodedCertificates.get(source.certificate);
  if (cached !== undefined && cached.principal === source.principal) return cached;
  let peer: PeerCertificate;
  try {
    peer = { principal: source.principal, certificatePem: decodeURIComponent(source.certificate) };
  } catch {
    return { principal: source.principal };
  }
  if (decodedCertificates.size >= MAX_DECODED_CERTIFICATES) decodedCertificates.clear();
  decodedCertificates.set(source.certificate, peer);
  return peer;
}

function toAddress(peer: PeerFacts | undefined): string {
  const address = peer?.address?.address;
  if (address?.case !== 'socketAddress') return '';
  const port = address.value.portSpecifier.case === 'portValue' ? `:${address.value.portSpecifier.value}` : '';
  return `${address.value.address}${port}`;
}
