import type { Admin, Bootstrap } from '../gen/envoy/config/bootstrap/v3/bootstrap_pb.js';
import type { Cluster } from '../gen/envoy/config/cluster/v3/cluster_pb.js';
import type { TransportSocket } from '../gen/envoy/config/core/v3/base_pb.js';
import type { FilterChain } from '../gen/envoy/config/listener/v3/listener_components_pb.js';
import type { Listener } from '../gen/envoy/config/listener/v3/listener_pb.js';
import type { RouteConfiguration } from '../gen/envoy/config/route/v3/route_pb.js';
import { type ExtAuthz, ExtAuthzSchema } from '../gen/envoy/extensions/filters/http/ext_authz/v3/ext_authz_pb.js';
import {
  type HttpConnectionManager,
  HttpConnectionManagerSchema,
  type HttpFilter,
} from '../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { type DownstreamTlsContext, DownstreamTlsContextSchema } from '../gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { at, type JsonPath, ROOT } from './json-path.js';
import { unpackAs } from './unpack.js';

/** The parts of a bootstrap the rules look at, each with the JSON path it was read from. */
export interface EnvoyModel {
  readonly admin?: { readonly path: JsonPath; readonly admin: Admin };
  readonly chains: readonly ChainModel[];
  readonly managers: readonly ManagerModel[];
  readonly clusters: readonly { readonly path: JsonPath; readonly cluster: Cluster }[];
}

/** A listener's filter chain (or its default chain) and its downstream TLS context, if any. */
export interface ChainModel {
  readonly path: JsonPath;
  readonly listener: Listener;
  readonly chain: FilterChain;
  readonly tls?: { readonly path: JsonPath; readonly context: DownstreamTlsContext };
  /** The transport socket when it is not `DownstreamTlsContext` (raw_buffer, or an unknown kind). */
  readonly otherTransport?: TransportSocket;
}

/** An HTTP connection manager, its ext_authz filters and its inline routes. */
export interface ManagerModel {
  readonly path: JsonPath;
  readonly chain: ChainModel;
  readonly manager: HttpConnectionManager;
  readonly filters: readonly { readonly path: JsonPath; readonly filter: HttpFilter; readonly index: number; readonly extAuthz?: ExtAuthz }[];
  /** `undefined` when routes come from RDS or scoped RDS (not in the file). */
  readonly routes?: { readonly path: JsonPath; readonly config: RouteConfiguration };
}

/** Walks the static resources once; rules read the result. Dynamic resources (xDS) are not in the file. */
export function toEnvoyModel(bootstrap: Bootstrap): EnvoyModel {
  const chains: ChainModel[] = [];
  const managers: ManagerModel[] = [];
  const resources = at(ROOT, 'static_resources');
  for (const [i, listener] of (bootstrap.staticResources?.listeners ?? []).entries()) {
    const listenerPath = at(resources, 'listeners', i);
    const all: [JsonPath, FilterChain][] = listener.filterChains.map((chain, j) => [at(listenerPath, 'filter_chains', j), chain]);
    if (listener.defaultFilterChain !== undefined) all.push([at(listenerPath, 'default_filter_chain'), listener.defaultFilterChain]);
    for (const [path, chain] of all) {
      const model = toChainModel(path, listener, chain);
      chains.push(model);
      for (const [k, filter] of chain.filters.entries()) {
        const filterPath = at(path, 'filters', k);
        const manager = filter.configType.case === 'typedConfig' ? unpackAs(filter.configType.value, HttpConnectionManagerSchema) : undefined;
        if (manager !== undefined) managers.push(toManagerModel(at(filterPath, 'typed_config'), model, manager));
      }
    }
  }
  const clusters = (bootstrap.staticResources?.clusters ?? []).map((cluster, i) => ({ path: at(resources, 'clusters', i), cluster }));
  return { ...(bootstrap.admin !== undefined ? { admin: { path: at(ROOT, 'admin'), admin: bootstrap.admin } } : {}), chains, managers, clusters };
}

function toChainModel(path: JsonPath, listener: Listener, chain: FilterChain): ChainModel {
  const socket = chain.transportSocket;
  const typed = socket?.configType.case === 'typedConfig' ? socket.configType.value : undefined;
  const context = unpackAs(typed, DownstreamTlsContextSchema);
  if (context !== undefined) return { path, listener, chain, tls: { path: at(path, 'transport_socket', 'typed_config'), context } };
  return { path, listener, chain, ...(socket !== undefined ? { otherTransport: socket } : {}) };
}

function toManagerModel(path: JsonPath, chain: ChainModel, manager: HttpConnectionManager): ManagerModel {
  const filters = manager.httpFilters.map((filter, index) => {
    const typed = filter.configType.case === 'typedConfig' ? filter.configType.value : undefined;
    const extAuthz = unpackAs(typed, ExtAuthzSchema);
    return { path: at(path, 'http_filters', index), filter, index, ...(extAuthz !== undefined ? { extAuthz } : {}) };
  });
  const routes = manager.routeSpecifier.case === 'routeConfig' ? { path: at(path, 'route_config'), config: manager.routeSpecifier.value } : undefined;
  return { path, chain, manager, filters, ...(routes !== undefined ? { routes } : {}) };
}
