import { describe, expect, it } from 'vitest';
import type { CallguardFacts } from '../../../src/envoy-lint/callguard-facts.js';
import { lintEnvoy } from '../../../src/envoy-lint/lint-envoy.js';
import { readBootstrap } from '../../../src/envoy-lint/read-bootstrap.js';
import { RULES } from '../../../src/envoy-lint/rule-catalog.js';
import { LINT_CASES as CASES, namingRoute } from '../../helpers/lint-envoy-cases.js';
import { cluster, downstreamTls, extAuthz, hcm, type Json, SHIPPED_LAYOUTS, shippedCallguard, shippedEnvoy, upstreamTls } from '../../helpers/shipped-envoy.js';

const lint = (yaml: string, callguard?: CallguardFacts) => lintEnvoy(readBootstrap(yaml, 'envoy.yaml'), callguard);

describe('lint-envoy: one broken setting in the shipped config, one finding', () => {
  it.each(CASES)('$rule: $name', ({ rule, path, breakIt, callguard }) => {
    const findings = lint(shippedEnvoy(breakIt), callguard !== undefined ? shippedCallguard(callguard) : undefined);
    expect([...new Set(findings.map((f) => f.rule))]).toEqual([rule]);
    expect(findings.map((f) => f.path)).toContain(path);
    for (const f of findings) expect(f).toMatchObject({ severity: RULES[rule].severity, fix: RULES[rule].fix });
  });

  it('has a case for every rule', () => {
    expect(new Set(CASES.map((c) => c.rule))).toEqual(new Set(Object.keys(RULES)));
  });
});

describe('lint-envoy: what is not a finding', () => {
  it.each([
    {
      name: 'callguard cluster in plaintext on loopback',
      breakIt: (c: Json) => delete cluster(c, 'callguard').transport_socket,
    },
    {
      name: 'a route naming an existing function',
      breakIt: (c: Json) => hcm(c).route_config.virtual_hosts[0].routes.unshift(namingRoute('/orders', 'orders.create')),
    },
    {
      name: 'allowed_headers listing every header callguard reads',
      breakIt: (c: Json) =>
        (extAuthz(c).allowed_headers = {
          patterns: [
            { exact: 'authorization' },
            { exact: 'X-Api-Key', ignore_case: true },
            { prefix: 'content-' },
            { safe_regex: { regex: 'dpop|x-request-id' } },
          ],
        }),
    },
    {
      name: 'AEAD suites only, TLS 1.3 minimum',
      breakIt: (c: Json) => {
        downstreamTls(c).tls_params = {
          tls_minimum_protocol_version: 'TLSv1_3',
          cipher_suites: ['[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305]', 'ECDHE-RSA-AES256-GCM-SHA384'],
        };
      },
    },
    {
      name: 'auto_sni and auto_san_validation instead of sni and SAN matchers',
      breakIt: (c: Json) => {
        delete upstreamTls(c, 'function').sni;
        delete upstreamTls(c, 'function').common_tls_context.validation_context.match_typed_subject_alt_names;
        cluster(c, 'function').typed_extension_protocol_options = {
          'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
            '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
            upstream_http_protocol_options: { auto_sni: true, auto_san_validation: true },
            explicit_http_config: { http_protocol_options: {} },
          },
        };
      },
    },
  ])('$name', ({ breakIt }) => {
    expect(lint(shippedEnvoy(breakIt), shippedCallguard())).toEqual([]);
  });
});

describe('lint-envoy: the configs we ship pass clean', () => {
  it.each(SHIPPED_LAYOUTS)('envoy/envoy.yaml rendered for $name, alone and with its callguard config', ({ layout }) => {
    const envoy = shippedEnvoy(undefined, layout);
    expect(lint(envoy)).toEqual([]);
    expect(lint(envoy, shippedCallguard(undefined, layout))).toEqual([]);
  });
});
