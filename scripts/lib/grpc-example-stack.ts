import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './stack-config.js';

type Json = Record<string, unknown>;

export const INVENTORY_PROTO_DIR = path.join(REPO_ROOT, 'examples/grpc');
export const INVENTORY_SCHEMA = path.join(REPO_ROOT, 'examples/schemas/inventory.reserve.json');
export const INVENTORY_SERVICE = 'example.inventory.v1.Inventory';

/** `buf build <protoDir> -o <dir>/<name>` (buf from node_modules; default: the example); returns the file. */
export function buildInventoryDescriptorSet(dir: string, protoDir = INVENTORY_PROTO_DIR, name = 'inventory.binpb'): string {
  const out = path.join(dir, name);
  execFileSync(path.join(REPO_ROOT, 'node_modules/.bin/buf'), ['build', protoDir, '-o', out], { cwd: REPO_ROOT, stdio: 'pipe' });
  return out;
}

/**
 * The stack's Envoy config plus the gRPC example: calls to the Inventory service go to a cluster that
 * speaks HTTP/2 (gRPC) to the function's unix socket. The route is listed before the catch-all; the
 * ext_authz filter (callguard, with the body packed as bytes) applies to it like to every route.
 */
export function addInventoryRoute(envoy: Json, socketPath: string): void {
  const resources = envoy['static_resources'] as {
    listeners: { filter_chains: { filters: { typed_config: { route_config: { virtual_hosts: { routes: Json[] }[] } } }[] }[] }[];
    clusters: Json[];
  };
  resources.clusters.push({
    name: 'inventory',
    connect_timeout: '1s',
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
    load_assignment: { cluster_name: 'inventory', endpoints: [{ lb_endpoints: [{ endpoint: { address: { pipe: { path: socketPath } } } }] }] },
  });
  const host = resources.listeners[0]?.filter_chains[0]?.filters[0]?.typed_config.route_config.virtual_hosts[0];
  if (host === undefined) throw new TypeError('the Envoy config has no listener with a virtual host');
  host.routes.unshift({ match: { prefix: `/${INVENTORY_SERVICE}/` }, route: { cluster: 'inventory' } });
}

/** The callguard function for Inventory/Reserve (as in the README's "gRPC functions"), with absolute paths. */
export function inventoryReserveFunction(descriptorSet: string, issuer = 'example'): Json {
  return {
    name: 'inventory.reserve',
    match: { method: 'POST', path: `/${INVENTORY_SERVICE}/Reserve` },
    allow: [{ issuer, groups: ['orders-writers'] }],
    input: {
      contentType: 'application/grpc',
      schema: INVENTORY_SCHEMA,
      sensitive: ['/card/number'],
      logFields: ['/sku', '/quantity', '/card/number'],
      grpc: { descriptorSet, method: `${INVENTORY_SERVICE}/Reserve` },
    },
  };
}
