import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { localLayout, REPO_ROOT, renderEnvoyConfig } from '../../../scripts/lib/stack-config.js';
import configSchema from '../../../src/config/schema.json' with { type: 'json' };
import { TLS_PROFILE } from '../../../src/transport/tls-profile.js';

type Json = Record<string, unknown>;

const rendered = parse(
  renderEnvoyConfig(localLayout({ pkiDir: '/pki', decisionLog: '/tmp/d.log', ports: { envoy: 1, envoyAdmin: 2, callguard: 3, function: 4 } })),
) as {
  static_resources: { listeners: Array<{ name: string; filter_chains: Array<{ transport_socket: { typed_config: Json } }> }>; clusters: Json[] };
};

/** Every TLS context of the shipped Envoy config, named. */
const contexts: Array<{ name: string; kind: 'listener' | 'cluster'; context: { common_tls_context: Json } }> = [
  ...rendered.static_resources.listeners.flatMap((l) =>
    l.filter_chains.map((chain, i) => ({
      name: `listener ${l.name} chain ${i}`,
      kind: 'listener' as const,
      context: chain.transport_socket.typed_config as { common_tls_context: Json },
    })),
  ),
  ...rendered.static_resources.clusters.map((c) => ({
    name: `cluster ${String(c['name'])}`,
    kind: 'cluster' as const,
    context: (c['transport_socket'] as { typed_config: { common_tls_context: Json } }).typed_config,
  })),
];

describe('envoy/envoy.yaml states the TLS profile on every TLS context', () => {
  it.each(contexts)('$name', ({ name, kind, context }) => {
    const common = context.common_tls_context;
    const expected = kind === 'listener' ? TLS_PROFILE.envoyListener : TLS_PROFILE.envoyCluster;
    const tls13Only = TLS_PROFILE.tls13OnlyClusters.some((c) => name === `cluster ${c}`);
    expect(common['tls_params']).toEqual({ ...expected, ...(tls13Only ? { tls_minimum_protocol_version: 'TLSv1_3' } : {}) });
    const params = common['tls_params'] as { cipher_suites: string[]; signature_algorithms: string[] };
    for (const suite of params.cipher_suites) expect(TLS_PROFILE.envoyAeadSuites).toContain(suite);
    for (const alg of TLS_PROFILE.forbiddenSignatureAlgorithms) expect(params.signature_algorithms).not.toContain(alg);
    // Revocation on every validation context, for the whole chain (only_verify_leaf_cert_crl unset).
    const validation = common['validation_context'] as Json;
    expect(validation['crl']).toEqual({ filename: '/pki/ca.crl' });
    expect(validation['only_verify_leaf_cert_crl']).toBeUndefined();
  });

  it('the access log carries the upstream transport failure and the response flags', () => {
    const text = readFileSync(path.join(REPO_ROOT, 'envoy/envoy.yaml'), 'utf8');
    expect(text).toContain('%UPSTREAM_TRANSPORT_FAILURE_REASON%');
    expect(text).toContain('%RESPONSE_FLAGS%');
  });
});

describe("callguard's server.tls defaults are the profile", () => {
  const tls = configSchema.properties.server.properties.tls.properties;
  it('TLS 1.3 by default, AEAD suites only', () => {
    expect(tls.minVersion.default).toBe('TLSv1.3');
    expect(tls.ciphers.default).toEqual(TLS_PROFILE.nodeCiphers);
    expect(tls.ciphers.items.enum).toEqual(TLS_PROFILE.nodeCiphers);
  });
});
