/**
 * A normalized authorization question: everything `decide` may look at, as plain values.
 * Built by an adapter (src/envoy for ext_authz gRPC) from facts the proxy itself set.
 */
export interface CallAttempt {
  /** Envoy's `x-request-id` (or the stream id when absent): correlation only, never trusted. */
  readonly requestId: string;
  readonly method: string;
  /** Path exactly as Envoy reports it (after Envoy's own normalization), including any query. */
  readonly path: string;
  readonly host: string;
  /**
   * Lower-cased request headers as Envoy forwarded them (a repeated header's values joined with ','),
   * whichever shape it used; only those its `allowed_headers` lets through, pseudo-headers included.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** Per-route `context_extensions` from the Envoy config (operator-controlled, trusted). */
  readonly contextExtensions: Readonly<Record<string, string>>;
  readonly transport: TransportFacts;
  readonly body: RequestBody;
  /** Remote address of the downstream connection as Envoy saw it, e.g. `10.0.0.7:51234`. */
  readonly sourceAddress: string;
}

/** Facts about the downstream connection that only the proxy can set (never request headers). */
export interface TransportFacts {
  /** The downstream connection is TLS (Envoy reports its own certificate as destination principal). */
  readonly tls: boolean;
  readonly sni?: string;
  /** Present only when the caller presented a certificate Envoy verified. */
  readonly peer?: PeerCertificate;
}

export interface PeerCertificate {
  /** Envoy's `source.principal`: first URI SAN, else first DNS SAN, else subject. */
  readonly principal: string;
  /** PEM of the peer certificate (`include_peer_certificate: true`), URL-decoded. */
  readonly certificatePem?: string;
}

export interface RequestBody {
  /** Raw bytes Envoy buffered (`with_request_body`), or undefined when Envoy sent none. */
  readonly bytes: Uint8Array | undefined;
  /** Envoy's `x-envoy-auth-partial-body: true`: the body was truncated at `max_request_bytes`. */
  readonly partial: boolean;
}
