import type { Duration } from '@bufbuild/protobuf/wkt';
import type { ExtAuthz } from '../gen/envoy/extensions/filters/http/ext_authz/v3/ext_authz_pb.js';
import { at, type JsonPath } from './json-path.js';

/** Where an ext_authz filter sends its checks, and with what timeout. */
export interface AuthzService {
  /** Path of `grpc_service` or `http_service`. */
  readonly path: JsonPath;
  /** The Envoy cluster (envoy_grpc, or http_service.server_uri.cluster). */
  readonly cluster?: string;
  /** google_grpc: the target and whether it has TLS channel credentials. */
  readonly google?: { readonly target: string; readonly tls: boolean };
  readonly timeout?: Duration;
  readonly timeoutPath: JsonPath;
}

export function authzServiceOf(config: ExtAuthz, filterPath: JsonPath): AuthzService | undefined {
  const typed = at(filterPath, 'typed_config');
  const services = config.services;
  if (services.case === 'grpcService') {
    const path = at(typed, 'grpc_service');
    const grpc = services.value;
    const base = { path, timeoutPath: at(path, 'timeout'), ...(grpc.timeout !== undefined ? { timeout: grpc.timeout } : {}) };
    if (grpc.targetSpecifier.case === 'envoyGrpc') return { ...base, cluster: grpc.targetSpecifier.value.clusterName };
    if (grpc.targetSpecifier.case === 'googleGrpc') {
      const google = grpc.targetSpecifier.value;
      return { ...base, google: { target: google.targetUri, tls: google.channelCredentials?.credentialSpecifier.case === 'sslCredentials' } };
    }
    return base;
  }
  if (services.case === 'httpService') {
    const path = at(typed, 'http_service');
    const uri = services.value.serverUri;
    const timeoutPath = at(path, 'server_uri', 'timeout');
    const cluster = uri?.httpUpstreamType.case === 'cluster' ? uri.httpUpstreamType.value : undefined;
    return { path, timeoutPath, ...(cluster !== undefined ? { cluster } : {}), ...(uri?.timeout !== undefined ? { timeout: uri.timeout } : {}) };
  }
  return undefined;
}
