import type { JsonPath } from './json-path.js';

export type Severity = 'error' | 'warning' | 'note';

export interface RuleInfo {
  readonly severity: Severity;
  /** What the rule finds, one line (README table, SARIF `shortDescription`). */
  readonly summary: string;
  /** How to fix it, one line. */
  readonly fix: string;
  /** Runs only with `--callguard CONFIG`. */
  readonly needsCallguard?: true;
}

/**
 * Every rule `callguard lint-envoy` has. The ids are stable (CI suppressions and SARIF results refer to
 * them); a rule is never renamed, only added. README "Linting your Envoy config" lists them all
 * (test/unit/docs.test.ts checks).
 */
export const RULES = Object.freeze({
  'listener-plaintext': {
    severity: 'error',
    summary: 'A listener filter chain accepts plaintext (no DownstreamTlsContext transport socket).',
    fix: 'Give every filter chain a transport_socket `envoy.transport_sockets.tls` with a DownstreamTlsContext.',
  },
  'tls-min-version': {
    severity: 'error',
    summary: 'A TLS context allows TLS below 1.2 (tls_minimum_protocol_version TLSv1_0/TLSv1_1, or a maximum below 1.2).',
    fix: 'Set tls_params.tls_minimum_protocol_version: TLSv1_2 (or TLSv1_3).',
  },
  'tls-cipher-not-aead': {
    severity: 'error',
    summary:
      'An explicit tls_params.cipher_suites list offers a TLS 1.2 suite outside the TLS profile: without AEAD (CBC: LUCKY13-class attacks; CCM8, ARIA) or without ECDHE (RSA key exchange: no forward secrecy).',
    fix: 'List only ECDHE AEAD suites (ECDHE-ECDSA/RSA-AES128-GCM-SHA256, …-AES256-GCM-SHA384, …-CHACHA20-POLY1305).',
  },
  'tls-signature-sha1': {
    severity: 'error',
    summary: 'tls_params.signature_algorithms offers a SHA-1 signature scheme (rsa_pkcs1_sha1, ecdsa_sha1) for the handshake.',
    fix: 'Remove the *_sha1 entries (see the TLS profile: ECDSA/RSA-PSS/PKCS#1 with SHA-256 or stronger).',
  },
  'client-cert-unverified': {
    severity: 'error',
    summary: 'A listener requests client certificates but does not verify them (ACCEPT_UNTRUSTED, or required without a trusted CA).',
    fix: 'Set validation_context.trusted_ca and leave trust_chain_verification at VERIFY_TRUST_CHAIN.',
  },
  'client-cert-not-requested': {
    severity: 'error',
    summary: 'A function requires mTLS but a listener has no validation context, so Envoy never asks for a client certificate.',
    fix: 'Add common_tls_context.validation_context.trusted_ca to the listener’s DownstreamTlsContext.',
    needsCallguard: true,
  },
  'ext-authz-missing': {
    severity: 'error',
    summary: 'An HTTP connection manager has no ext_authz filter: its routes reach upstreams without callguard.',
    fix: 'Add envoy.filters.http.ext_authz (ExtAuthz, grpc_service → the callguard cluster) before the router.',
  },
  'ext-authz-disabled': {
    severity: 'error',
    summary:
      'ext_authz is disabled: on a route or virtual host (ExtAuthzPerRoute.disabled, FilterConfig.disabled), on the filter itself, or for a fraction of requests.',
    fix: 'Remove the `disabled` / `filter_enabled` override; name a function with check_settings.context_extensions instead.',
  },
  'ext-authz-order': {
    severity: 'error',
    summary: 'A filter that forwards or answers requests (router, lua) runs before ext_authz, so a route or upstream is reached unchecked.',
    fix: 'Put envoy.filters.http.ext_authz before the router and any filter that calls upstreams.',
  },
  'ext-authz-failure-mode-allow': {
    severity: 'error',
    summary: 'failure_mode_allow: true lets every request through when callguard is down or slow.',
    fix: 'Set failure_mode_allow: false (fail closed).',
  },
  'ext-authz-no-timeout': {
    severity: 'error',
    summary: 'The ext_authz call has no timeout (0s): a hung callguard holds every request.',
    fix: 'Set grpc_service.timeout (e.g. 0.2s).',
  },
  'ext-authz-retry-unsafe': {
    severity: 'error',
    summary:
      'The Check retry policy can send a Check callguard may already have decided (retry_on beyond failures before sending, or a per-try timeout, max_interval, below the Check timeout): two decisions for one call, a single-use token seen twice.',
    fix: 'retry_on: connect-failure,refused-stream,reset-before-request,unavailable, and retry_back_off.max_interval equal to grpc_service.timeout.',
  },
  'ext-authz-timeout-long': {
    severity: 'warning',
    summary: 'The ext_authz timeout is above 1 s: a slow callguard stalls callers for that long before the outage shows.',
    fix: 'Set grpc_service.timeout to 1s or less (0.2s is Envoy’s default).',
  },
  'ext-authz-status-on-error': {
    severity: 'error',
    summary: 'status_on_error is a 1xx/2xx/3xx status: an authorization outage looks like a success to the caller.',
    fix: 'Set status_on_error: { code: ServiceUnavailable }.',
  },
  'ext-authz-status-on-error-denial': {
    severity: 'warning',
    summary: 'status_on_error is unset (403) or 401/403: an authorization outage cannot be told from a denial.',
    fix: 'Set status_on_error: { code: ServiceUnavailable }.',
  },
  'ext-authz-body-missing': {
    severity: 'error',
    summary: 'Functions validate request bodies (input.schema) but ext_authz sends no body (with_request_body unset).',
    fix: 'Set with_request_body: { max_request_bytes: 65536, allow_partial_message: false, pack_as_bytes: true }.',
    needsCallguard: true,
  },
  'ext-authz-partial-body': {
    severity: 'error',
    summary: 'with_request_body.allow_partial_message: true sends a truncated body, so a schema is checked against a prefix.',
    fix: 'Set allow_partial_message: false (Envoy answers 413 for larger bodies).',
  },
  'ext-authz-peer-certificate': {
    severity: 'error',
    summary: 'include_peer_certificate is off while functions need the caller’s certificate (requireMtls, SPIFFE IDs, mTLS-bound tokens).',
    fix: 'Set include_peer_certificate: true.',
    needsCallguard: true,
  },
  'ext-authz-allowed-headers': {
    severity: 'error',
    summary: 'allowed_headers (or disallowed_headers) keeps a header callguard reads (authorization, the API key header, dpop, content-type) from reaching it.',
    fix: 'Add the header to allowed_headers (exact match) or remove it from disallowed_headers; or drop allowed_headers.',
  },
  'ext-authz-cluster-plaintext': {
    severity: 'error',
    summary: 'The cluster Envoy reaches callguard through has no TLS and an endpoint off loopback.',
    fix: 'Give the callguard cluster an UpstreamTlsContext (trusted_ca, SAN match, sni), or keep callguard on loopback.',
  },
  'cluster-no-tls': {
    severity: 'error',
    summary: 'An upstream cluster has no TLS transport socket: calls and callguard’s identity headers travel in plaintext.',
    fix: 'Add transport_socket `envoy.transport_sockets.tls` with an UpstreamTlsContext.',
  },
  'cluster-no-ca': {
    severity: 'error',
    summary: 'An upstream TLS cluster does not verify the server certificate (no trusted CA, or ACCEPT_UNTRUSTED).',
    fix: 'Set common_tls_context.validation_context.trusted_ca.',
  },
  'tls-no-crl': {
    severity: 'warning',
    summary: 'A validation context with a trusted CA has no CRL: a revoked certificate (listener: client; cluster: server) is still accepted.',
    fix: 'Set validation_context.crl to the CA’s CRL (PEM), and renew it before its nextUpdate: Envoy refuses every certificate of a CA whose CRL expired.',
  },
  'cluster-no-san': {
    severity: 'error',
    summary: 'An upstream TLS cluster accepts any certificate from its CA (no SAN match).',
    fix: 'Set validation_context.match_typed_subject_alt_names to the upstream’s name.',
  },
  'cluster-no-sni': {
    severity: 'warning',
    summary: 'An upstream TLS cluster sends no SNI: a server hosting several names may present another one’s certificate.',
    fix: 'Set sni on the UpstreamTlsContext (or auto_sni in the cluster’s HttpProtocolOptions).',
  },
  'hcm-normalize-path': {
    severity: 'error',
    summary: 'normalize_path is not true: `/x/../orders` is routed and authorized as written, not as the upstream resolves it.',
    fix: 'Set normalize_path: true on the HTTP connection manager.',
  },
  'hcm-merge-slashes': {
    severity: 'error',
    summary: 'merge_slashes is off: `//orders` and `/orders` are different paths to routes and to callguard.',
    fix: 'Set merge_slashes: true on the HTTP connection manager.',
  },
  'hcm-escaped-slashes': {
    severity: 'error',
    summary: 'path_with_escaped_slashes_action is not REJECT_REQUEST: `%2F` passes, and Envoy and the upstream see different paths.',
    fix: 'Set path_with_escaped_slashes_action: REJECT_REQUEST.',
  },
  'routes-not-inline': {
    severity: 'note',
    summary: 'Routes come from RDS or scoped RDS: route rules (disabled ext_authz, reachability) cannot be checked from the file.',
    fix: 'Lint the route configurations your control plane serves, or inline route_config.',
  },
  'admin-off-loopback': {
    severity: 'error',
    summary: 'Envoy’s admin interface (unauthenticated: config dump, quitquitquit) listens off loopback.',
    fix: 'Bind admin.address to 127.0.0.1 or ::1 (or a unix socket).',
  },
  'function-unreachable': {
    severity: 'error',
    summary: 'A callguard function is reached by no route through ext_authz (its method and path, or its name in context_extensions).',
    fix: 'Add a route matching the function’s method and path (a catch-all prefix `/` works) to a manager with ext_authz.',
    needsCallguard: true,
  },
  'function-unknown': {
    severity: 'error',
    summary: 'A route names a function (check_settings.context_extensions.function) that callguard’s config does not define.',
    fix: 'Fix the name, or add the function to callguard’s config.',
    needsCallguard: true,
  },
} as const satisfies Record<string, RuleInfo>);

export type RuleId = keyof typeof RULES;

export interface Finding {
  readonly rule: RuleId;
  readonly severity: Severity;
  /** JSONPath of what the finding is about, with Envoy's snake_case names (`$.static_resources.listeners[0]`). */
  readonly path: JsonPath;
  readonly message: string;
  readonly fix: string;
}

/** A finding of `rule` at `path`; severity and fix come from the catalog. */
export function finding(rule: RuleId, path: JsonPath, message: string): Finding {
  const info: RuleInfo = RULES[rule];
  return { rule, severity: info.severity, path, message, fix: info.fix };
}
