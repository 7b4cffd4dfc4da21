import { parse, stringify } from 'yaml';
import { composeLayout, localLayout, renderCallguardConfig, renderEnvoyConfig, type StackLayout } from '../../scripts/lib/stack-config.js';
import { parseConfig } from '../../src/config/load-config.js';
import { type CallguardFacts, toCallguardFacts } from '../../src/envoy-lint/callguard-facts.js';

/** Parsed YAML edited in place by the tests: deep, untyped paths on purpose. */
// biome-ignore lint/suspicious/noExplicitAny: fixtures reach into untyped YAML by path
export type Json = Record<string, any>;

/** The two layouts we ship envoy/envoy.yaml in: the local stack (tests, `npm run stack`) and compose. */
export const SHIPPED_LAYOUTS: readonly { name: string; layout: StackLayout }[] = [
  {
    name: 'local',
    layout: localLayout({ pkiDir: '/srv/pki', decisionLog: 'stdout', ports: { envoy: 8443, envoyAdmin: 9901, callguard: 9191, function: 9443 } }),
  },
  { name: 'compose', layout: composeLayout() },
];

const LOCAL = (SHIPPED_LAYOUTS[0] as { layout: StackLayout }).layout;

/** envoy/envoy.yaml rendered (local layout), after `breakIt` changed it; comments are lost. */
export function shippedEnvoy(breakIt: (config: Json) => void = () => {}, layout: StackLayout = LOCAL): string {
  const config = parse(renderEnvoyConfig(layout)) as Json;
  breakIt(config);
  return stringify(config);
}

/** examples/callguard.yaml as the stack renders it, after `change`, reduced to what the rules read. */
export function shippedCallguard(change: (config: Json) => void = () => {}, layout: StackLayout = LOCAL): CallguardFacts {
  return toCallguardFacts(parseConfig(renderCallguardConfig(layout, change), '/srv/callguard.yaml'));
}

/** Shortcuts into the rendered config (one listener, one HTTP connection manager, clusters by name). */
export const chain = (c: Json): Json => c['static_resources'].listeners[0].filter_chains[0];
export const downstreamTls = (c: Json): Json => chain(c).transport_socket.typed_config.common_tls_context;
export const hcm = (c: Json): Json => chain(c).filters[0].typed_config;
export const extAuthz = (c: Json): Json => hcm(c).http_filters.find((f: Json) => f.name === 'envoy.filters.http.ext_authz').typed_config;
export const cluster = (c: Json, name: string): Json => c['static_resources'].clusters.find((x: Json) => x.name === name);
export const upstreamTls = (c: Json, name: string): Json => cluster(c, name).transport_socket.typed_config;
export const firstRoute = (c: Json): Json => hcm(c).route_config.virtual_hosts[0].routes[0];
