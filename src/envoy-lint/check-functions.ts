import type { Any } from '@bufbuild/protobuf/wkt';
import type { CallguardFacts, FunctionFacts } from './callguard-facts.js';
import type { EnvoyModel, ManagerModel } from './envoy-model.js';
import { at, ROOT } from './json-path.js';
import { matchRoute } from './match-route.js';
import { extAuthzOverrides, extAuthzPerRouteOf } from './per-filter-configs.js';
import { type Finding, finding } from './rule-catalog.js';

/** callguard's `context_extensions` key naming the function (src/decide.ts FUNCTION_EXTENSION). */
const FUNCTION_KEY = 'function';

/**
 * With callguard's config: every function can be reached through ext_authz (function-unreachable), and
 * every function a route names exists (function-unknown).
 */
export function checkFunctions(model: EnvoyModel, callguard: CallguardFacts): Finding[] {
  const known = new Set(callguard.functions.map((fn) => fn.name));
  const findings: Finding[] = [];
  const guarded = model.managers.filter((m) => m.routes !== undefined && m.filters.some((f) => f.extAuthz !== undefined));
  const named = new Set<string>();
  for (const manager of guarded) {
    for (const override of extAuthzOverrides(manager.routes!.config, manager.routes!.path, extAuthzNames(manager))) {
      const name = override.perRoute?.override.case === 'checkSettings' ? override.perRoute.override.value.contextExtensions[FUNCTION_KEY] : undefined;
      if (name === undefined) continue;
      named.add(name);
      if (!known.has(name)) {
        findings.push(
          finding(
            'function-unknown',
            at(override.path, 'check_settings', 'context_extensions', FUNCTION_KEY),
            `"${name}" is not a function in callguard's config`,
          ),
        );
      }
    }
  }
  // Routes in RDS cannot be checked: say nothing rather than call every function unreachable.
  if (model.managers.some((m) => m.routes === undefined)) return findings;
  for (const fn of callguard.functions) {
    if (named.has(fn.name)) continue;
    const match = fn.match;
    if (match !== undefined && guarded.some((manager) => reaches(manager, fn.name, match))) continue;
    const how = fn.match !== undefined ? `${fn.match.method} ${fn.match.path}` : 'its name (no match in callguard, and no route names it)';
    findings.push(finding('function-unreachable', guarded[0]?.routes?.path ?? ROOT, `"${fn.name}": no route through ext_authz takes ${how}`));
  }
  return findings;
}

/** Envoy picks the first matching route of a virtual host; it must forward, and name no other function. */
function reaches(manager: ManagerModel, name: string, match: NonNullable<FunctionFacts['match']>): boolean {
  const config = manager.routes!.config;
  const path = match.path.replaceAll(/\{[^/}]+\}/g, 'x');
  const names = extAuthzNames(manager);
  return config.virtualHosts.some((vhost) => {
    const route = vhost.routes.find((r) => r.match !== undefined && matchRoute(r.match, match.method, path));
    if (route?.action.case !== 'route') return false;
    const namedHere =
      namedFunction(route.typedPerFilterConfig, names) ?? namedFunction(vhost.typedPerFilterConfig, names) ?? namedFunction(config.typedPerFilterConfig, names);
    return namedHere === undefined || namedHere === name;
  });
}

function namedFunction(configs: { [key: string]: Any }, names: ReadonlySet<string>): string | undefined {
  for (const [key, any] of Object.entries(configs)) {
    if (!names.has(key)) continue;
    const perRoute = extAuthzPerRouteOf(any).perRoute;
    if (perRoute?.override.case === 'checkSettings') return perRoute.override.value.contextExtensions[FUNCTION_KEY];
  }
  return undefined;
}

function extAuthzNames(manager: ManagerModel): ReadonlySet<string> {
  return new Set(manager.filters.filter((f) => f.extAuthz !== undefined).map((f) => f.filter.name));
}
