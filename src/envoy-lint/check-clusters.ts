import { isLoopbackHost } from '../admin/admin-address.js';
import type { Cluster } from '../gen/envoy/config/cluster/v3/cluster_pb.js';
import { CertificateValidationContext_TrustChainVerification } from '../gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { type UpstreamTlsContext, UpstreamTlsContextSchema } from '../gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { HttpProtocolOptionsSchema } from '../gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import { authzServiceOf } from './authz-service.js';
import { checkTlsParams, hasTrustAnchors, validationOf } from './check-tls-params.js';
import { allEndpointsLocal } from './endpoint-hosts.js';
import type { EnvoyModel } from './envoy-model.js';
import { at, type JsonPath } from './json-path.js';
import { type Finding, finding } from './rule-catalog.js';
import { unpackAs } from './unpack.js';

const HTTP_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/**
 * Upstream clusters: TLS with a trusted CA, a SAN match and SNI (cluster-*); the cluster callguard is
 * reached through may be plaintext only when all its endpoints are on this host (ext-authz-cluster-plaintext).
 */
export function checkClusters(model: EnvoyModel): Finding[] {
  const authzClusters = new Set<string>();
  const findings: Finding[] = [];
  for (const manager of model.managers) {
    for (const filter of manager.filters) {
      const service = filter.extAuthz !== undefined ? authzServiceOf(filter.extAuthz, filter.path) : undefined;
      if (service?.cluster !== undefined) authzClusters.add(service.cluster);
      if (service?.google !== undefined && !service.google.tls && !isLocalTarget(service.google.target)) {
        findings.push(finding('ext-authz-cluster-plaintext', service.path, `google_grpc target ${service.google.target} without ssl_credentials`));
      }
    }
  }
  for (const { path, cluster } of model.clusters) {
    const tls = upstreamTlsOf(cluster, path);
    if (tls === undefined) {
      if (!authzClusters.has(cluster.name)) findings.push(finding('cluster-no-tls', path, `cluster "${cluster.name}" has no UpstreamTlsContext`));
      else if (!allEndpointsLocal(cluster)) {
        findings.push(finding('ext-authz-cluster-plaintext', path, `cluster "${cluster.name}" carries Checks in plaintext to endpoints off loopback`));
      }
      continue;
    }
    findings.push(...checkUpstreamTls(cluster, tls.context, tls.path));
  }
  return findings;
}

function checkUpstreamTls(cluster: Cluster, context: UpstreamTlsContext, path: JsonPath): Finding[] {
  const findings = checkTlsParams(context.commonTlsContext, path);
  const validation = validationOf(context.commonTlsContext);
  const validationPath = at(path, 'common_tls_context', 'validation_context');
  const options = unpackAs(cluster.typedExtensionProtocolOptions[HTTP_OPTIONS], HttpProtocolOptionsSchema)?.upstreamHttpProtocolOptions;
  const untrusted = validation !== 'sds' && validation?.trustChainVerification === CertificateValidationContext_TrustChainVerification.ACCEPT_UNTRUSTED;
  if (!hasTrustAnchors(validation) || untrusted) {
    findings.push(finding('cluster-no-ca', validationPath, `cluster "${cluster.name}" ${untrusted ? 'accepts untrusted chains' : 'names no trusted CA'}`));
  } else if (validation !== 'sds' && validation !== undefined && validation.crl === undefined) {
    findings.push(finding('tls-no-crl', validationPath, `cluster "${cluster.name}" accepts a revoked server certificate`));
  }
  if (hasTrustAnchors(validation) && !untrusted && validation !== 'sds' && validation !== undefined && !options?.autoSanValidation) {
    if (validation.matchTypedSubjectAltNames.length === 0 && validation.matchSubjectAltNames.length === 0) {
      findings.push(finding('cluster-no-san', validationPath, `cluster "${cluster.name}" accepts any certificate its CA issued`));
    }
  }
  if (context.sni === '' && !options?.autoSni) findings.push(finding('cluster-no-sni', at(path, 'sni'), `cluster "${cluster.name}" sends no SNI`));
  return findings;
}

/** The cluster's UpstreamTlsContext: its transport_socket, else the first TLS one among transport_socket_matches. */
function upstreamTlsOf(cluster: Cluster, path: JsonPath): { context: UpstreamTlsContext; path: JsonPath } | undefined {
  const socket = cluster.transportSocket;
  const direct = socket?.configType.case === 'typedConfig' ? unpackAs(socket.configType.value, UpstreamTlsContextSchema) : undefined;
  if (direct !== undefined) return { context: direct, path: at(path, 'transport_socket', 'typed_config') };
  for (const [i, match] of cluster.transportSocketMatches.entries()) {
    const typed = match.transportSocket?.configType.case === 'typedConfig' ? match.transportSocket.configType.value : undefined;
    const context = unpackAs(typed, UpstreamTlsContextSchema);
    if (context !== undefined) return { context, path: at(path, 'transport_socket_matches', i, 'transport_socket', 'typed_config') };
  }
  return undefined;
}

function isLocalTarget(target: string): boolean {
  if (target.startsWith('unix:')) return true;
  const authority = target.replace(/^dns:(\/\/\/)?/, '');
  const bracketed = /^\[([^\]]+)\]/.exec(authority);
  return isLoopbackHost(bracketed?.[1] ?? authority.replace(/:\d+$/, ''));
}
