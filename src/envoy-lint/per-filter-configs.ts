import type { Any } from '@bufbuild/protobuf/wkt';
import { FilterConfigSchema } from '../gen/envoy/config/route/v3/route_components_pb.js';
import type { RouteConfiguration } from '../gen/envoy/config/route/v3/route_pb.js';
import { type ExtAuthzPerRoute, ExtAuthzPerRouteSchema } from '../gen/envoy/extensions/filters/http/ext_authz/v3/ext_authz_pb.js';
import { at, type JsonPath } from './json-path.js';
import { unpackAs } from './unpack.js';

/** One `typed_per_filter_config` entry for an ext_authz filter, at any level of a route configuration. */
export interface ExtAuthzOverride {
  readonly path: JsonPath;
  /** ExtAuthzPerRoute (bare, or inside a FilterConfig); absent for a FilterConfig without one. */
  readonly perRoute?: ExtAuthzPerRoute;
  /** `FilterConfig.disabled: true` (route_components.proto): the filter does not run for this route. */
  readonly filterDisabled: boolean;
}

/**
 * Every `typed_per_filter_config` entry keyed by one of `filterNames` in a route configuration: on the
 * configuration, each virtual host, each route and each weighted cluster (Envoy merges them, most
 * specific wins).
 */
export function extAuthzOverrides(routes: RouteConfiguration, path: JsonPath, filterNames: ReadonlySet<string>): ExtAuthzOverride[] {
  const out: ExtAuthzOverride[] = [];
  const collect = (configs: { [key: string]: Any }, at0: JsonPath) => {
    for (const [name, any] of Object.entries(configs)) {
      if (!filterNames.has(name)) continue;
      const entryPath = at(at0, 'typed_per_filter_config', name);
      out.push({ path: entryPath, ...extAuthzPerRouteOf(any) });
    }
  };
  collect(routes.typedPerFilterConfig, path);
  for (const [i, vhost] of routes.virtualHosts.entries()) {
    const vhostPath = at(path, 'virtual_hosts', i);
    collect(vhost.typedPerFilterConfig, vhostPath);
    for (const [j, route] of vhost.routes.entries()) {
      const routePath = at(vhostPath, 'routes', j);
      collect(route.typedPerFilterConfig, routePath);
      if (route.action.case === 'route' && route.action.value.clusterSpecifier.case === 'weightedClusters') {
        for (const [k, weighted] of route.action.value.clusterSpecifier.value.clusters.entries()) {
          collect(weighted.typedPerFilterConfig, at(routePath, 'route', 'weighted_clusters', 'clusters', k));
        }
      }
    }
  }
  return out;
}

/** A `typed_per_filter_config` value: an ExtAuthzPerRoute, bare or inside a FilterConfig (which may disable the filter). */
export function extAuthzPerRouteOf(any: Any): { readonly perRoute?: ExtAuthzPerRoute; readonly filterDisabled: boolean } {
  const wrapper = unpackAs(any, FilterConfigSchema);
  const perRoute = unpackAs(wrapper !== undefined ? wrapper.config : any, ExtAuthzPerRouteSchema);
  return { filterDisabled: wrapper?.disabled === true, ...(perRoute !== undefined ? { perRoute } : {}) };
}
