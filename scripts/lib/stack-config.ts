import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { JWKS_FILE, KEYS_FILE } from './dev-issuer.js';
import { renderTemplate } from './render-template.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const ENVOY_TEMPLATE = path.join(REPO_ROOT, 'envoy/envoy.yaml');
export const EXAMPLE_CONFIG = path.join(REPO_ROOT, 'examples/callguard.yaml');

/**
 * Envoy's client identity (scripts/dev-pki.sh `envoy-client`, URI SAN). Envoy presents this one
 * certificate on both hops it originates; callguard (`server.tls.clientSans`) and the function
 * (`--envoy-san`) accept no other certificate from the dev CA.
 */
export const ENVOY_SPIFFE_ID = 'spiffe://example.org/ns/edge/sa/envoy';

/** Where each part of the stack listens, and where it finds its files, as seen from inside it. */
export interface StackLayout {
  /** Dev PKI directory (certificates, `jwks.json`) as Envoy and callguard see it. */
  readonly pkiDir: string;
  /** `examples/` as callguard sees it (function schemas). */
  readonly examplesDir: string;
  readonly envoy: { readonly listenHost: string; readonly listenPort: number; readonly adminHost: string; readonly adminPort: number };
  /** `host` is how Envoy reaches callguard; `listen` is what callguard binds; `adminListen` its admin listener (loopback). */
  readonly callguard: { readonly host: string; readonly port: number; readonly listen: string; readonly adminListen: string };
  readonly function: { readonly host: string; readonly port: number };
  /** `stdout`, `stderr` or a file path. */
  readonly decisionLog: string;
}

/** The local stack (`npm run stack`); compose uses the same ports inside its network. */
export const DEFAULT_PORTS = Object.freeze({ envoy: 8443, envoyAdmin: 9901, callguard: 9191, callguardAdmin: 9192, function: 9443 });

/** Envoy's admin API has no authentication: it may only ever listen on loopback. */
const LOOPBACK = new Set(['127.0.0.1', '::1']);

/** Envoy's configuration: envoy/envoy.yaml with addresses, ports and paths filled in. */
export function renderEnvoyConfig(layout: StackLayout): string {
  if (!LOOPBACK.has(layout.envoy.adminHost)) {
    throw new Error(`Envoy's admin interface must bind to loopback (127.0.0.1 or ::1), not ${layout.envoy.adminHost}`);
  }
  return renderTemplate(
    readFileSync(ENVOY_TEMPLATE, 'utf8'),
    {
      LISTEN_HOST: layout.envoy.listenHost,
      LISTEN_PORT: layout.envoy.listenPort,
      ADMIN_HOST: layout.envoy.adminHost,
      ADMIN_PORT: layout.envoy.adminPort,
      CALLGUARD_HOST: layout.callguard.host,
      CALLGUARD_PORT: layout.callguard.port,
      FUNCTION_HOST: layout.function.host,
      FUNCTION_PORT: layout.function.port,
      PKI_DIR: layout.pkiDir,
    },
    ENVOY_TEMPLATE,
  );
}

type Json = Record<string, unknown>;

/**
 * The rendered Envoy config with the `callguard` cluster's endpoints set to one per port on 127.0.0.1
 * (several replicas; Envoy balances Checks round robin). Comments are lost: the result is for tests.
 */
export function withCallguardEndpoints(envoyYaml: string, ports: readonly number[]): string {
  const config = parse(envoyYaml) as { static_resources?: { clusters?: Json[] } };
  const cluster = config.static_resources?.clusters?.find((c) => c['name'] === 'callguard');
  const endpoints = (cluster?.['load_assignment'] as { endpoints?: Json[] } | undefined)?.endpoints;
  if (endpoints?.length !== 1) throw new Error('the Envoy config has no `callguard` cluster with one locality to fill');
  (endpoints[0] as Json)['lb_endpoints'] = ports.map((port) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }));
  return stringify(config);
}

/**
 * The rendered Envoy config after `customize` changed it in place (tests: other ext_authz settings, such
 * as `encode_raw_headers` or `allowed_headers`). Comments are lost: the result is for tests.
 */
export function withEnvoyCustomized(envoyYaml: string, customize: (config: Json) => void): string {
  const config = parse(envoyYaml) as Json;
  customize(config);
  return stringify(config);
}

/**
 * callguard's stack configuration, derived from examples/callguard.yaml so the two never drift: same
 * issuers and functions; adds TLS with Envoy as the only client (mTLS, Envoy's SAN pinned), the dev JWKS,
 * and the log file.
 */
export function renderCallguardConfig(layout: StackLayout, customize?: (config: Json) => void): string {
  const config = parse(readFileSync(EXAMPLE_CONFIG, 'utf8')) as Json;
  const pki = (file: string) => path.posix.join(layout.pkiDir, file);
  config['server'] = {
    listen: layout.callguard.listen,
    // clientSans: Envoy is the only client; a workload certificate from the same CA gets
    // ERR_CALLER_UNTRUSTED instead of a decision.
    // clientCrl: a revoked Envoy certificate fails the handshake (the dev CA's CRL, as on Envoy's side).
    tls: { cert: pki('callguard.crt'), key: pki('callguard.key'), clientCa: pki('ca.crt'), clientCrl: pki('ca.crl'), clientSans: [ENVOY_SPIFFE_ID] },
  };
  const identity = config['identity'] as Json;
  for (const issuer of identity['issuers'] as Json[]) {
    if ('jwksFile' in issuer) issuer['jwksFile'] = pki(JWKS_FILE);
  }
  const apiKeys = identity['apiKeys'] as Json | undefined;
  if (apiKeys !== undefined) apiKeys['file'] = pki(KEYS_FILE);
  for (const fn of config['functions'] as Json[]) {
    const input = fn['input'] as Json | undefined;
    if (input !== undefined) input['schema'] = path.posix.join(layout.examplesDir, String(input['schema']));
  }
  config['decisionLog'] = { destination: layout.decisionLog };
  config['admin'] = { listen: layout.callguard.adminListen };
  customize?.(config);
  return `# Generated from examples/callguard.yaml by scripts/lib/stack-config.ts. Do not edit.\n${stringify(config)}`;
}

export interface RenderedStack {
  readonly envoyConfig: string;
  readonly callguardConfig: string;
}

/** Write `envoy.yaml` and `callguard.yaml` for `layout` into `outDir`. */
export async function writeStackConfigs(outDir: string, layout: StackLayout): Promise<RenderedStack> {
  await mkdir(outDir, { recursive: true });
  const envoyConfig = path.join(outDir, 'envoy.yaml');
  const callguardConfig = path.join(outDir, 'callguard.yaml');
  await writeFile(envoyConfig, renderEnvoyConfig(layout));
  await writeFile(callguardConfig, renderCallguardConfig(layout));
  return { envoyConfig, callguardConfig };
}

/** Layout of a stack on this machine, everything on loopback; port 0 lets the OS choose. */
export function localLayout(options: {
  pkiDir: string;
  decisionLog: string;
  /** `callguardAdmin` absent: port 0 (several stacks and replicas run side by side in the tests). */
  ports: { envoy: number; envoyAdmin: number; callguard: number; callguardAdmin?: number; function: number };
}): StackLayout {
  return {
    pkiDir: path.resolve(options.pkiDir),
    examplesDir: path.join(REPO_ROOT, 'examples'),
    envoy: { listenHost: '127.0.0.1', listenPort: options.ports.envoy, adminHost: '127.0.0.1', adminPort: options.ports.envoyAdmin },
    callguard: {
      host: '127.0.0.1',
      port: options.ports.callguard,
      listen: `127.0.0.1:${options.ports.callguard}`,
      adminListen: `127.0.0.1:${options.ports.callguardAdmin ?? 0}`,
    },
    function: { host: '127.0.0.1', port: options.ports.function },
    decisionLog: options.decisionLog,
  };
}

/** Paths inside the compose containers (docker-compose.yml mounts the `stack` volume at /stack). */
export const COMPOSE_PATHS = Object.freeze({ stackDir: '/stack', pkiDir: '/stack/pki', examplesDir: '/app/examples' });

/**
 * Layout of the compose stack: service names as hosts, the local stack's ports inside the network.
 * Envoy's admin binds to 127.0.0.1 inside its container: no other container (and, since compose does
 * not publish it, not the host either) can reach it.
 */
export function composeLayout(overrides: { pkiDir?: string } = {}): StackLayout {
  return {
    pkiDir: overrides.pkiDir ?? COMPOSE_PATHS.pkiDir,
    examplesDir: COMPOSE_PATHS.examplesDir,
    envoy: { listenHost: '0.0.0.0', listenPort: DEFAULT_PORTS.envoy, adminHost: '127.0.0.1', adminPort: DEFAULT_PORTS.envoyAdmin },
    // The admin listener stays on loopback: the compose healthcheck runs inside the container.
    callguard: {
      host: 'callguard',
      port: DEFAULT_PORTS.callguard,
      listen: `0.0.0.0:${DEFAULT_PORTS.callguard}`,
      adminListen: `127.0.0.1:${DEFAULT_PORTS.callguardAdmin}`,
    },
    function: { host: 'function', port: DEFAULT_PORTS.function },
    decisionLog: 'stdout',
  };
}
