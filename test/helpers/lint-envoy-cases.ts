import type { RuleId } from '../../src/envoy-lint/rule-catalog.js';
import { chain, cluster, downstreamTls, extAuthz, firstRoute, hcm, type Json, upstreamTls } from './shipped-envoy.js';

// The lint-envoy rule cases: each breaks one setting of our rendered envoy/envoy.yaml. The unit test checks
// the linter names it; the e2e test checks what Envoy's own --mode validate says about the same file.

export const LISTENER = '$.static_resources.listeners[0].filter_chains[0]';
export const DOWNSTREAM_TLS = `${LISTENER}.transport_socket.typed_config`;
export const HCM = `${LISTENER}.filters[0].typed_config`;
export const EXT_AUTHZ = `${HCM}.http_filters[0].typed_config`;
export const ROUTE = `${HCM}.route_config.virtual_hosts[0].routes[0]`;
export const CALLGUARD_CLUSTER = '$.static_resources.clusters[0]';
export const FUNCTION_TLS = '$.static_resources.clusters[1].transport_socket.typed_config';
export const PER_ROUTE = 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute';
export const ROUTER = { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } };

/** A route for one path that names its function (callguard then checks the call matches it). */
export const namingRoute = (path: string, fn: string): Json => ({
  match: { path },
  route: { cluster: 'function' },
  typed_per_filter_config: { 'envoy.filters.http.ext_authz': { '@type': PER_ROUTE, check_settings: { context_extensions: { function: fn } } } },
});

export interface LintCase {
  name: string;
  rule: RuleId;
  path: string;
  breakIt: (config: Json) => void;
  /** Envoy's `--mode validate` refuses this file too (with this message); every other case it accepts. */
  envoyRefuses?: RegExp;
  /** Lint with callguard's (shipped) config, changed by this. */
  callguard?: (config: Json) => void;
}

// One thing broken in the config we ship, one rule expected to name it (and no other rule to fire).
export const LINT_CASES: LintCase[] = [
  { name: 'no transport socket', rule: 'listener-plaintext', path: LISTENER, breakIt: (c) => delete chain(c).transport_socket },
  {
    name: 'raw_buffer transport socket',
    rule: 'listener-plaintext',
    path: LISTENER,
    breakIt: (c) => {
      chain(c).transport_socket = {
        name: 'envoy.transport_sockets.raw_buffer',
        typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer' },
      };
    },
  },
  {
    name: 'listener minimum TLS 1.1',
    rule: 'tls-min-version',
    path: `${DOWNSTREAM_TLS}.common_tls_context.tls_params.tls_minimum_protocol_version`,
    breakIt: (c) => (downstreamTls(c).tls_params = { tls_minimum_protocol_version: 'TLSv1_1' }),
  },
  {
    name: 'upstream maximum TLS 1.0',
    rule: 'tls-min-version',
    path: `${FUNCTION_TLS}.common_tls_context.tls_params.tls_maximum_protocol_version`,
    breakIt: (c) => (upstreamTls(c, 'function').common_tls_context.tls_params = { tls_maximum_protocol_version: 'TLSv1_0' }),
  },
  {
    name: 'a CBC suite in an equal-preference group',
    rule: 'tls-cipher-not-aead',
    path: `${DOWNSTREAM_TLS}.common_tls_context.tls_params.cipher_suites[1]`,
    breakIt: (c) => {
      downstreamTls(c).tls_params = { cipher_suites: ['ECDHE-ECDSA-AES128-GCM-SHA256', '[ECDHE-RSA-CHACHA20-POLY1305|ECDHE-RSA-AES128-SHA]'] };
    },
  },
  {
    name: 'an RSA key-exchange suite (AEAD, but no forward secrecy)',
    rule: 'tls-cipher-not-aead',
    path: `${DOWNSTREAM_TLS}.common_tls_context.tls_params.cipher_suites[1]`,
    breakIt: (c) => (downstreamTls(c).tls_params.cipher_suites = ['ECDHE-ECDSA-AES128-GCM-SHA256', 'AES128-GCM-SHA256']),
  },
  {
    name: 'a SHA-1 handshake signature',
    rule: 'tls-signature-sha1',
    path: `${DOWNSTREAM_TLS}.common_tls_context.tls_params.signature_algorithms[2]`,
    breakIt: (c) => (downstreamTls(c).tls_params.signature_algorithms = ['ecdsa_secp256r1_sha256', 'rsa_pss_rsae_sha256', 'rsa_pkcs1_sha1']),
  },
  {
    name: 'ACCEPT_UNTRUSTED client certificates',
    rule: 'client-cert-unverified',
    path: `${DOWNSTREAM_TLS}.common_tls_context.validation_context.trust_chain_verification`,
    breakIt: (c) => (downstreamTls(c).validation_context.trust_chain_verification = 'ACCEPT_UNTRUSTED'),
  },
  {
    name: 'client certificate required, no CA',
    envoyRefuses: /SAN-based verification of peer certificates without trusted CA/,
    rule: 'client-cert-unverified',
    path: `${DOWNSTREAM_TLS}.common_tls_context.validation_context`,
    breakIt: (c) => {
      chain(c).transport_socket.typed_config.require_client_certificate = true;
      downstreamTls(c).validation_context = { match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { prefix: 'spiffe://' } }] };
    },
  },
  {
    name: 'no validation context while billing.charge requires mTLS',
    rule: 'client-cert-not-requested',
    path: DOWNSTREAM_TLS,
    breakIt: (c) => delete downstreamTls(c).validation_context,
    callguard: () => {},
  },
  {
    name: 'no ext_authz filter',
    rule: 'ext-authz-missing',
    path: `${HCM}.http_filters`,
    breakIt: (c) => (hcm(c).http_filters = [ROUTER]),
  },
  {
    name: 'ExtAuthzPerRoute.disabled on a route',
    rule: 'ext-authz-disabled',
    path: `${ROUTE}.typed_per_filter_config['envoy.filters.http.ext_authz'].disabled`,
    breakIt: (c) => (firstRoute(c).typed_per_filter_config = { 'envoy.filters.http.ext_authz': { '@type': PER_ROUTE, disabled: true } }),
  },
  {
    name: 'FilterConfig.disabled on a virtual host',
    rule: 'ext-authz-disabled',
    path: `${HCM}.route_config.virtual_hosts[0].typed_per_filter_config['envoy.filters.http.ext_authz'].disabled`,
    breakIt: (c) => {
      hcm(c).route_config.virtual_hosts[0].typed_per_filter_config = {
        'envoy.filters.http.ext_authz': { '@type': 'type.googleapis.com/envoy.config.route.v3.FilterConfig', disabled: true },
      };
    },
  },
  {
    name: 'the filter disabled by default',
    rule: 'ext-authz-disabled',
    path: `${HCM}.http_filters[0].disabled`,
    breakIt: (c) => (hcm(c).http_filters[0].disabled = true),
  },
  {
    name: 'enabled for half the requests',
    rule: 'ext-authz-disabled',
    path: `${EXT_AUTHZ}.filter_enabled`,
    breakIt: (c) => (extAuthz(c).filter_enabled = { default_value: { numerator: 50, denominator: 'HUNDRED' }, runtime_key: 'authz' }),
  },
  {
    name: 'router before ext_authz',
    envoyRefuses: /terminal filter named envoy.filters.http.router/,
    rule: 'ext-authz-order',
    path: `${HCM}.http_filters[0]`,
    breakIt: (c) => hcm(c).http_filters.reverse(),
  },
  {
    name: 'a Lua filter before ext_authz',
    rule: 'ext-authz-order',
    path: `${HCM}.http_filters[0]`,
    breakIt: (c) => {
      hcm(c).http_filters.unshift({
        name: 'envoy.filters.http.lua',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua',
          default_source_code: { inline_string: 'function envoy_on_request(h) end' },
        },
      });
    },
  },
  {
    name: 'failure_mode_allow',
    rule: 'ext-authz-failure-mode-allow',
    path: `${EXT_AUTHZ}.failure_mode_allow`,
    breakIt: (c) => (extAuthz(c).failure_mode_allow = true),
  },
  {
    name: 'timeout 0s',
    rule: 'ext-authz-no-timeout',
    path: `${EXT_AUTHZ}.grpc_service.timeout`,
    breakIt: (c) => (extAuthz(c).grpc_service.timeout = '0s'),
  },
  {
    name: 'timeout 5s',
    rule: 'ext-authz-timeout-long',
    path: `${EXT_AUTHZ}.grpc_service.timeout`,
    breakIt: (c) => {
      // The per-try timeout (max_interval) follows the Check timeout, or ext-authz-retry-unsafe fires too.
      extAuthz(c).grpc_service.timeout = '5s';
      extAuthz(c).grpc_service.retry_policy.retry_back_off.max_interval = '5s';
    },
  },
  {
    name: 'status_on_error 200',
    rule: 'ext-authz-status-on-error',
    path: `${EXT_AUTHZ}.status_on_error.code`,
    breakIt: (c) => (extAuthz(c).status_on_error = { code: 'OK' }),
  },
  {
    name: 'status_on_error unset (403)',
    rule: 'ext-authz-status-on-error-denial',
    path: `${EXT_AUTHZ}.status_on_error`,
    breakIt: (c) => delete extAuthz(c).status_on_error,
  },
  {
    name: 'status_on_error 401',
    rule: 'ext-authz-status-on-error-denial',
    path: `${EXT_AUTHZ}.status_on_error.code`,
    breakIt: (c) => (extAuthz(c).status_on_error = { code: 'Unauthorized' }),
  },
  {
    name: 'no body while orders.create has a schema',
    rule: 'ext-authz-body-missing',
    path: `${EXT_AUTHZ}.with_request_body`,
    breakIt: (c) => delete extAuthz(c).with_request_body,
    callguard: () => {},
  },
  {
    name: 'allow_partial_message',
    rule: 'ext-authz-partial-body',
    path: `${EXT_AUTHZ}.with_request_body.allow_partial_message`,
    breakIt: (c) => (extAuthz(c).with_request_body.allow_partial_message = true),
  },
  {
    name: 'include_peer_certificate off while billing.charge requires mTLS',
    rule: 'ext-authz-peer-certificate',
    path: `${EXT_AUTHZ}.include_peer_certificate`,
    breakIt: (c) => (extAuthz(c).include_peer_certificate = false),
    callguard: () => {},
  },
  {
    name: 'allowed_headers without authorization',
    rule: 'ext-authz-allowed-headers',
    path: `${EXT_AUTHZ}.allowed_headers`,
    breakIt: (c) => (extAuthz(c).allowed_headers = { patterns: [{ exact: 'dpop' }, { exact: 'x-api-key' }] }),
  },
  {
    name: 'allowed_headers without the API key header',
    rule: 'ext-authz-allowed-headers',
    path: `${EXT_AUTHZ}.allowed_headers`,
    breakIt: (c) => (extAuthz(c).allowed_headers = { patterns: [{ safe_regex: { regex: 'authorization|dpop|content-.*' } }] }),
    callguard: () => {},
  },
  {
    name: 'disallowed_headers with the API key header',
    rule: 'ext-authz-allowed-headers',
    path: `${EXT_AUTHZ}.disallowed_headers`,
    breakIt: (c) => (extAuthz(c).disallowed_headers = { patterns: [{ prefix: 'X-API', ignore_case: true }] }),
    callguard: () => {},
  },
  {
    name: 'callguard cluster in plaintext off loopback',
    rule: 'ext-authz-cluster-plaintext',
    path: CALLGUARD_CLUSTER,
    breakIt: (c) => {
      delete cluster(c, 'callguard').transport_socket;
      cluster(c, 'callguard').load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address = 'callguard.internal';
    },
  },
  {
    name: 'function cluster without TLS',
    rule: 'cluster-no-tls',
    path: '$.static_resources.clusters[1]',
    breakIt: (c) => delete cluster(c, 'function').transport_socket,
  },
  {
    name: 'function cluster without a trusted CA',
    envoyRefuses: /SAN-based verification of peer certificates without trusted CA/,
    rule: 'cluster-no-ca',
    path: `${FUNCTION_TLS}.common_tls_context.validation_context`,
    breakIt: (c) => {
      // The CRL goes with the CA: Envoy refuses a CRL without a trusted CA before it gets to the SAN check.
      const validation = upstreamTls(c, 'function').common_tls_context.validation_context;
      delete validation.trusted_ca;
      delete validation.crl;
    },
  },
  {
    name: 'callguard cluster ACCEPT_UNTRUSTED',
    rule: 'cluster-no-ca',
    path: `${CALLGUARD_CLUSTER}.transport_socket.typed_config.common_tls_context.validation_context`,
    breakIt: (c) => (upstreamTls(c, 'callguard').common_tls_context.validation_context.trust_chain_verification = 'ACCEPT_UNTRUSTED'),
  },
  {
    name: 'Check retries on any reset (also after the Check was sent)',
    rule: 'ext-authz-retry-unsafe',
    path: `${EXT_AUTHZ}.grpc_service.retry_policy.retry_on`,
    breakIt: (c) => (extAuthz(c).grpc_service.retry_policy.retry_on = 'connect-failure,reset'),
  },
  {
    name: 'Check per-try timeout below the Check timeout',
    rule: 'ext-authz-retry-unsafe',
    path: `${EXT_AUTHZ}.grpc_service.retry_policy.retry_back_off`,
    breakIt: (c) => (extAuthz(c).grpc_service.retry_policy.retry_back_off.max_interval = '0.020s'),
  },
  {
    name: 'function cluster without a CRL',
    rule: 'tls-no-crl',
    path: `${FUNCTION_TLS}.common_tls_context.validation_context`,
    breakIt: (c) => delete upstreamTls(c, 'function').common_tls_context.validation_context.crl,
  },
  {
    name: 'listener without a CRL for client certificates',
    rule: 'tls-no-crl',
    path: `${DOWNSTREAM_TLS}.common_tls_context.validation_context`,
    breakIt: (c) => delete downstreamTls(c).validation_context.crl,
  },
  {
    name: 'function cluster without a SAN match',
    rule: 'cluster-no-san',
    path: `${FUNCTION_TLS}.common_tls_context.validation_context`,
    breakIt: (c) => delete upstreamTls(c, 'function').common_tls_context.validation_context.match_typed_subject_alt_names,
  },
  {
    name: 'function cluster without SNI',
    rule: 'cluster-no-sni',
    path: `${FUNCTION_TLS}.sni`,
    breakIt: (c) => delete upstreamTls(c, 'function').sni,
  },
  { name: 'normalize_path off', rule: 'hcm-normalize-path', path: `${HCM}.normalize_path`, breakIt: (c) => (hcm(c).normalize_path = false) },
  { name: 'merge_slashes off', rule: 'hcm-merge-slashes', path: `${HCM}.merge_slashes`, breakIt: (c) => delete hcm(c).merge_slashes },
  {
    name: 'escaped slashes kept',
    rule: 'hcm-escaped-slashes',
    path: `${HCM}.path_with_escaped_slashes_action`,
    breakIt: (c) => (hcm(c).path_with_escaped_slashes_action = 'KEEP_UNCHANGED'),
  },
  {
    name: 'routes from RDS',
    rule: 'routes-not-inline',
    path: HCM,
    breakIt: (c) => {
      delete hcm(c).route_config;
      hcm(c).rds = { route_config_name: 'functions', config_source: { ads: {} } };
      c['node'] = { id: 'edge', cluster: 'edge' }; // xDS needs a node identity
    },
  },
  {
    name: 'admin on every interface',
    rule: 'admin-off-loopback',
    path: '$.admin.address',
    breakIt: (c) => (c['admin'].address.socket_address.address = '0.0.0.0'),
  },
  {
    name: 'a route for POST /orders only',
    rule: 'function-unreachable',
    path: `${HCM}.route_config`,
    breakIt: (c) => (firstRoute(c).match = { path: '/orders', headers: [{ name: ':method', string_match: { exact: 'POST' } }] }),
    callguard: () => {},
  },
  {
    name: 'a direct response shadows the function route',
    rule: 'function-unreachable',
    path: `${HCM}.route_config`,
    breakIt: (c) => hcm(c).route_config.virtual_hosts[0].routes.unshift({ match: { prefix: '/billing' }, direct_response: { status: 404 } }),
    callguard: () => {},
  },
  {
    name: 'a catch-all route naming one function shadows the others',
    rule: 'function-unreachable',
    path: `${HCM}.route_config`,
    breakIt: (c) => Object.assign(firstRoute(c), { typed_per_filter_config: namingRoute('/', 'orders.create').typed_per_filter_config }),
    callguard: () => {},
  },
  {
    name: 'a function named by no route and matched by none',
    rule: 'function-unreachable',
    path: `${HCM}.route_config`,
    breakIt: () => {},
    callguard: (cg) => cg['functions'].push({ name: 'reports.run', allow: [{ issuer: 'example', groups: ['g'] }] }),
  },
  {
    name: 'a route naming an unknown function',
    rule: 'function-unknown',
    path: `${ROUTE}.typed_per_filter_config['envoy.filters.http.ext_authz'].check_settings.context_extensions.function`,
    breakIt: (c) => hcm(c).route_config.virtual_hosts[0].routes.unshift(namingRoute('/orders/export', 'orders.delete')),
    callguard: () => {},
  },
];
