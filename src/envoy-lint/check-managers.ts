import { HttpConnectionManager_PathWithEscapedSlashesAction as EscapedSlashes } from '../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { EnvoyModel, ManagerModel } from './envoy-model.js';
import { at } from './json-path.js';
import { extAuthzOverrides } from './per-filter-configs.js';
import { type Finding, finding } from './rule-catalog.js';
import { typeNameOf } from './unpack.js';

/**
 * Filters that forward a request or can answer it / call upstreams themselves: none may run before
 * ext_authz. (The router is terminal: a filter after it never runs.)
 */
const REACHES_UPSTREAM = new Map([
  ['envoy.extensions.filters.http.router.v3.Router', 'the router'],
  ['envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec', 'the upstream codec'],
  ['envoy.extensions.filters.http.lua.v3.Lua', 'a Lua filter (httpCall, respond)'],
]);

/** Each HTTP connection manager: ext_authz present, first, never disabled; path normalization on. */
export function checkManagers(model: EnvoyModel): Finding[] {
  return model.managers.flatMap(checkManager);
}

function checkManager(manager: ManagerModel): Finding[] {
  const findings: Finding[] = [];
  const hcm = manager.manager;
  const authz = manager.filters.filter((f) => f.extAuthz !== undefined);
  const first = authz[0];
  if (first === undefined) {
    findings.push(finding('ext-authz-missing', at(manager.path, 'http_filters'), `listener "${manager.chain.listener.name}": no ext_authz filter`));
  } else {
    for (const earlier of manager.filters.slice(0, first.index)) {
      const what = REACHES_UPSTREAM.get(typeNameOf(earlier.filter.configType.case === 'typedConfig' ? earlier.filter.configType.value : undefined) ?? '');
      if (what !== undefined)
        findings.push(finding('ext-authz-order', earlier.path, `${what} ("${earlier.filter.name}") runs before ext_authz ("${first.filter.name}")`));
    }
    for (const filter of authz) {
      if (filter.filter.disabled) findings.push(finding('ext-authz-disabled', at(filter.path, 'disabled'), 'disabled unless a route enables it'));
    }
  }
  if (manager.routes === undefined) {
    findings.push(finding('routes-not-inline', manager.path, `routes come from ${manager.manager.routeSpecifier.case ?? 'nowhere'}`));
  } else if (authz.length > 0) {
    const names = new Set(authz.map((f) => f.filter.name));
    for (const override of extAuthzOverrides(manager.routes.config, manager.routes.path, names)) {
      if (override.filterDisabled) findings.push(finding('ext-authz-disabled', at(override.path, 'disabled'), 'FilterConfig.disabled: true'));
      if (override.perRoute?.override.case === 'disabled' && override.perRoute.override.value) {
        findings.push(finding('ext-authz-disabled', at(override.path, 'disabled'), 'ExtAuthzPerRoute.disabled: true'));
      }
    }
  }
  // RFC 3986 §6 normalization, Envoy's path-handling guidance for ext_authz and RBAC.
  if (hcm.normalizePath !== true)
    findings.push(finding('hcm-normalize-path', at(manager.path, 'normalize_path'), `normalize_path is ${hcm.normalizePath ?? 'unset'}`));
  if (!hcm.mergeSlashes) findings.push(finding('hcm-merge-slashes', at(manager.path, 'merge_slashes'), 'merge_slashes is false'));
  if (hcm.pathWithEscapedSlashesAction !== EscapedSlashes.REJECT_REQUEST) {
    findings.push(
      finding(
        'hcm-escaped-slashes',
        at(manager.path, 'path_with_escaped_slashes_action'),
        `path_with_escaped_slashes_action is ${EscapedSlashes[hcm.pathWithEscapedSlashesAction]}`,
      ),
    );
  }
  return findings;
}
