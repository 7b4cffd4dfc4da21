import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from '../call-attempt.js';
import { fail, type Result } from '../failure.js';
import type { MtlsPrincipal } from '../principal.js';
import { parseSpiffeId } from './spiffe-id.js';

export type PeerResult = Result<MtlsPrincipal>;

export interface PeerVerifier {
  /** Turns the certificate Envoy verified into an mTLS principal (its SPIFFE ID), or a coded failure. */
  verify(peer: PeerCertificate): PeerResult;
}

/**
 * Envoy has already verified the chain; this checks what Envoy does not: the certificate carries
 * exactly one URI SAN (SPIFFE X509-SVID §2), it is a valid SPIFFE ID, it equals Envoy's reported
 * principal, and its trust domain is configured. Results are cached per certificate (bounded).
 */
export function createPeerVerifier(trustDomains: readonly string[], cacheSize = 1024): PeerVerifier {
  const domains = new Set(trustDomains);
  const cache = new Map<string, PeerResult>();
  return {
    verify(peer) {
      const pem = peer.certificatePem;
      if (pem === undefined) {
        return invalid('Envoy sent no peer certificate (set include_peer_certificate: true)');
      }
      let result = cache.get(pem);
      if (result === undefined) {
        result = inspect(pem, domains);
        if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string);
        cache.set(pem, result);
      }
      if (result.ok && result.value.spiffeId !== peer.principal) {
        return invalid('URI SAN differs from the principal Envoy reported');
      }
      return result;
    },
  };
}

function inspect(pem: string, domains: ReadonlySet<string>): PeerResult {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    return invalid('peer certificate does not parse');
  }
  return judgePeer({ ca: cert.ca, uriSans: uriSans(cert.subjectAltName) }, domains);
}

/** What {@link createPeerVerifier} reads from a verified client certificate. */
export interface PeerCertFacts {
  readonly ca: boolean;
  readonly uriSans: readonly string[];
}

/**
 * The mTLS principal a verified certificate with these facts stands for, or a coded failure
 * (`callguard test` judges a case's peer with it, from facts rather than a certificate).
 */
export function judgePeer(facts: PeerCertFacts, domains: ReadonlySet<string>): PeerResult {
  // A CA certificate is never a workload identity (SPIFFE X509-SVID §4.1: leaf SVIDs have cA=false).
  if (facts.ca) return invalid('peer certificate is a CA certificate');
  const uris = facts.uriSans;
  if (uris.length !== 1) {
    return invalid(`peer certificate has ${uris.length} URI SANs, want exactly 1`);
  }
  const spiffe = parseSpiffeId(uris[0] as string);
  // A bare trust domain names no workload (SPIFFE-ID §2.2); only workload IDs are identities here.
  if (spiffe === undefined || spiffe.id === `spiffe://${spiffe.trustDomain}`) {
    return invalid('URI SAN is not a SPIFFE workload ID');
  }
  if (!domains.has(spiffe.trustDomain)) {
    return fail(
      'ERR_PEER_UNTRUSTED',
      'the client certificate is not from a trusted SPIFFE trust domain',
      `trust domain ${spiffe.trustDomain} is not configured`,
    );
  }
  const principal: MtlsPrincipal = {
    kind: 'mtls',
    source: 'spiffe',
    issuer: spiffe.trustDomain,
    subject: spiffe.id,
    groups: [],
    attributes: { spiffeId: spiffe.id, trustDomain: spiffe.trustDomain },
    spiffeId: spiffe.id,
    trustDomain: spiffe.trustDomain,
  };
  return { ok: true, value: Object.freeze(principal) };
}

function invalid(internal: string): PeerResult {
  return fail('ERR_PEER_INVALID', 'the client certificate does not carry exactly one valid SPIFFE ID', internal);
}

/**
 * URI entries of Node's `subjectAltName` string (`DNS:a, URI:spiffe://…`). Node quotes a value
 * that contains `,` or `"` as a JSON string, so splitting on ", " outside quotes is exact.
 */
export function uriSans(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  const out: string[] = [];
  for (const entry of splitOutsideQuotes(subjectAltName)) {
    if (!entry.startsWith('URI:')) continue;
    const value = entry.slice(4);
    out.push(value.startsWith('"') ? (JSON.parse(value) as string) : value);
  }
  return out;
}

function splitOutsideQuotes(value: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) {
      parts.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(value.slice(start).trim());
  return parts.filter((p) => p.length > 0);
}
