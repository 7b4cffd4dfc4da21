import type { CallAttempt, PeerCertificate } from '../call-attempt.js';
import type { CheckRequestFacts, PeerFacts } from './read-check-request.js';
import { toRequestHeaders } from './to-request-headers.js';

export type AttemptResult =
  | { ok: true; attempt: CallAttempt }
  /** `attempt`, when present, is the call without its headers: for the decision line only (method, route, source). */
  | { ok: false; code: 'ERR_REQUEST_MALFORMED' | 'ERR_HEADER_INVALID'; internal: string; attempt?: CallAttempt };

/** Envoy's header for a body cut at `max_request_bytes` (it drops any client-sent copy first). */
const PARTIAL_BODY = 'x-envoy-auth-partial-body';

/**
 * CheckRequest (read by readCheckRequest, or any generated `CheckRequest`) → CallAttempt. Only facts Envoy sets itself decide transport security:
 * - TLS: `destination.principal` is filled from Envoy's own certificate only when the downstream
 *   connection has TLS (Envoy check_request_utils.cc setAttrContextPeer, `connection.ssl()`).
 *   `:scheme` and `x-forwarded-proto` are caller-controlled on HTTP/2 and are never consulted.
 * - Peer: `source.principal` is set only for a certificate the TLS handshake verified;
 *   `source.certificate` (include_peer_certificate) is its URL-encoded PEM.
 *
 * Method, path and host come from `attributes.request.http`, never from the pseudo-headers: Envoy sets
 * them on every request from its own header map (check_request_utils.cc setHttpRequest, before and
 * regardless of `allowed_headers`), whereas the pseudo-headers are ordinary entries of `headers` or
 * `header_map` that `allowed_headers` filters like any other. (`scheme` is set there too; callguard
 * does not read it, for the reason above.) Headers come from either shape: see {@link toRequestHeaders}.
 */
export function toCallAttempt(request: CheckRequestFacts): AttemptResult {
  const attrs = request.attributes;
  const http = attrs?.request?.http;
  if (attrs === undefined || http === undefined) return malformed('CheckRequest has no attributes.request.http');
  if (http.method === '' || http.path === '') return malformed('CheckRequest has no method or path');
  const read = toRequestHeaders(http);
  if (!read.ok && read.code === 'ERR_REQUEST_MALFORMED') return read;
  // A caller's header callguard refuses to read still leaves a decision line that says which call it was.
  const headers = read.ok ? read.headers : NO_HEADERS;
  const bytes = http.rawBody.length > 0 ? http.rawBody : http.body.length > 0 ? new TextEncoder().encode(http.body) : undefined;
  // Envoy writes exactly `true` or `false`; anything else (two values joined, from a header_map that
  // Envoy did not build) is read as partial, so a prefix is never taken for the whole body.
  const partial = headers[PARTIAL_BODY];
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
    body: { bytes, partial: partial !== undefined && partial !== 'false' },
    sourceAddress: toAddress(attrs.source),
  };
  return read.ok ? { ok: true, attempt } : { ok: false, code: read.code, internal: read.internal, attempt };
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

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

function malformed(internal: string): AttemptResult {
  return { ok: false, code: 'ERR_REQUEST_MALFORMED', internal };
}

function toAddress(peer: PeerFacts | undefined): string {
  const address = peer?.address?.address;
  if (address?.case !== 'socketAddress') return '';
  const port = address.value.portSpecifier.case === 'portValue' ? `:${address.value.portSpecifier.value}` : '';
  return `${address.value.address}${port}`;
}
