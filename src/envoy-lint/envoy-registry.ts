import { createRegistry, type DescFile, type Registry } from '@bufbuild/protobuf';
import { file_envoy_config_bootstrap_v3_bootstrap } from '../gen/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { file_envoy_extensions_access_loggers_file_v3_file } from '../gen/envoy/extensions/access_loggers/file/v3/file_pb.js';
import { file_envoy_extensions_access_loggers_stream_v3_stream } from '../gen/envoy/extensions/access_loggers/stream/v3/stream_pb.js';
import { file_envoy_extensions_filters_http_buffer_v3_buffer } from '../gen/envoy/extensions/filters/http/buffer/v3/buffer_pb.js';
import { file_envoy_extensions_filters_http_cors_v3_cors } from '../gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import { file_envoy_extensions_filters_http_ext_authz_v3_ext_authz } from '../gen/envoy/extensions/filters/http/ext_authz/v3/ext_authz_pb.js';
import { file_envoy_extensions_filters_http_header_mutation_v3_header_mutation } from '../gen/envoy/extensions/filters/http/header_mutation/v3/header_mutation_pb.js';
import { file_envoy_extensions_filters_http_health_check_v3_health_check } from '../gen/envoy/extensions/filters/http/health_check/v3/health_check_pb.js';
import { file_envoy_extensions_filters_http_local_ratelimit_v3_local_rate_limit } from '../gen/envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit_pb.js';
import { file_envoy_extensions_filters_http_lua_v3_lua } from '../gen/envoy/extensions/filters/http/lua/v3/lua_pb.js';
import { file_envoy_extensions_filters_http_router_v3_router } from '../gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { file_envoy_extensions_filters_listener_tls_inspector_v3_tls_inspector } from '../gen/envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector_pb.js';
import { file_envoy_extensions_filters_network_http_connection_manager_v3_http_connection_manager } from '../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { file_envoy_extensions_filters_network_tcp_proxy_v3_tcp_proxy } from '../gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { file_envoy_extensions_formatter_req_without_query_v3_req_without_query } from '../gen/envoy/extensions/formatter/req_without_query/v3/req_without_query_pb.js';
import { file_envoy_extensions_resource_monitors_downstream_connections_v3_downstream_connections } from '../gen/envoy/extensions/resource_monitors/downstream_connections/v3/downstream_connections_pb.js';
import { file_envoy_extensions_resource_monitors_fixed_heap_v3_fixed_heap } from '../gen/envoy/extensions/resource_monitors/fixed_heap/v3/fixed_heap_pb.js';
import { file_envoy_extensions_retry_host_previous_hosts_v3_previous_hosts } from '../gen/envoy/extensions/retry/host/previous_hosts/v3/previous_hosts_pb.js';
import { file_envoy_extensions_transport_sockets_raw_buffer_v3_raw_buffer } from '../gen/envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer_pb.js';
import { file_envoy_extensions_transport_sockets_tls_v3_tls } from '../gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { file_envoy_extensions_upstreams_http_v3_http_protocol_options } from '../gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';

/**
 * Every type the linter can read inside a `typed_config` (`google.protobuf.Any`): the bootstrap, the
 * extensions listed in buf.gen.yaml, and everything they import. An `@type` outside it is a parse error,
 * so a typo in a type URL is never skipped silently. Extending it is one line here and one in buf.gen.yaml.
 */
export const ENVOY_REGISTRY: Registry = createRegistry(
  ...withDependencies([
    file_envoy_config_bootstrap_v3_bootstrap,
    file_envoy_extensions_access_loggers_file_v3_file,
    file_envoy_extensions_access_loggers_stream_v3_stream,
    file_envoy_extensions_filters_http_buffer_v3_buffer,
    file_envoy_extensions_filters_http_cors_v3_cors,
    file_envoy_extensions_filters_http_ext_authz_v3_ext_authz,
    file_envoy_extensions_filters_http_header_mutation_v3_header_mutation,
    file_envoy_extensions_filters_http_health_check_v3_health_check,
    file_envoy_extensions_filters_http_local_ratelimit_v3_local_rate_limit,
    file_envoy_extensions_filters_http_lua_v3_lua,
    file_envoy_extensions_filters_http_router_v3_router,
    file_envoy_extensions_filters_listener_tls_inspector_v3_tls_inspector,
    file_envoy_extensions_filters_network_http_connection_manager_v3_http_connection_manager,
    file_envoy_extensions_filters_network_tcp_proxy_v3_tcp_proxy,
    file_envoy_extensions_formatter_req_without_query_v3_req_without_query,
    file_envoy_extensions_resource_monitors_downstream_connections_v3_downstream_connections,
    file_envoy_extensions_resource_monitors_fixed_heap_v3_fixed_heap,
    file_envoy_extensions_retry_host_previous_hosts_v3_previous_hosts,
    file_envoy_extensions_transport_sockets_raw_buffer_v3_raw_buffer,
    file_envoy_extensions_transport_sockets_tls_v3_tls,
    file_envoy_extensions_upstreams_http_v3_http_protocol_options,
  ]),
);

function withDependencies(roots: readonly DescFile[]): DescFile[] {
  const seen = new Map<string, DescFile>();
  const visit = (file: DescFile): void => {
    if (seen.has(file.name)) return;
    seen.set(file.name, file);
    for (const dependency of file.dependencies) visit(dependency);
  };
  for (const root of roots) visit(root);
  return [...seen.values()];
}
