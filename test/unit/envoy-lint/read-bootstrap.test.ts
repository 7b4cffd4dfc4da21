import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readBootstrap } from '../../../src/envoy-lint/read-bootstrap.js';
import { ConfigError } from '../../../src/errors.js';
import { cluster, extAuthz, hcm, type Json, shippedEnvoy } from '../../helpers/shipped-envoy.js';

const HCM = '$.static_resources.listeners[0].filter_chains[0].filters[0].typed_config';
const EXT_AUTHZ = `${HCM}.http_filters[0].typed_config`;

function problemsOf(text: string): { path: string; message: string }[] {
  try {
    readBootstrap(text, 'envoy.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(({ path, message }) => ({ path, message }));
    throw err;
  }
  return [];
}

describe('readBootstrap: what Envoy would refuse is a parse error with its path', () => {
  it.each([
    { name: 'a misspelt field', breakIt: (c: Json) => (hcm(c).stat_prefx = 'edge'), path: `${HCM}.stat_prefx`, message: /unknown field "stat_prefx"/ },
    {
      name: 'a misspelt field deep in a list',
      breakIt: (c: Json) => (cluster(c, 'function').load_assignment.endpoints[0].lb_endpoints[0].endpoint.adress = {}),
      path: '$.static_resources.clusters[1].load_assignment.endpoints[0].lb_endpoints[0].endpoint.adress',
      message: /unknown field "adress"/,
    },
    { name: 'an unknown top-level key', breakIt: (c: Json) => (c['static_resource'] = {}), path: '$.static_resource', message: /unknown field/ },
    {
      name: 'a misspelt @type',
      breakIt: (c: Json) => (hcm(c).http_filters[0].typed_config['@type'] = 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuth'),
      path: `${EXT_AUTHZ}['@type']`,
      message: /unknown type .*ExtAuth"/,
    },
    {
      name: 'a type this linter does not read',
      breakIt: (c: Json) =>
        hcm(c).http_filters.unshift({ name: 'x', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm' } }),
      path: `${HCM}.http_filters[0].typed_config['@type']`,
      message: /unknown type/,
    },
    {
      name: 'a well-known type inside an Any, with a bad value',
      breakIt: (c: Json) => {
        hcm(c).route_config.virtual_hosts[0].typed_per_filter_config = { x: { '@type': 'type.googleapis.com/google.protobuf.Duration', value: 'soon' } };
      },
      path: `${HCM}.route_config.virtual_hosts[0].typed_per_filter_config.x`,
      message: /Duration/,
    },
    {
      name: 'a boolean as a string',
      breakIt: (c: Json) => (extAuthz(c).failure_mode_allow = 'no'),
      path: `${EXT_AUTHZ}.failure_mode_allow`,
      message: /expected boolean/,
    },
    {
      name: 'a duration without unit',
      breakIt: (c: Json) => (extAuthz(c).grpc_service.timeout = 0.2),
      path: `${EXT_AUTHZ}.grpc_service.timeout`,
      message: /Duration/,
    },
    { name: 'an unknown enum value', breakIt: (c: Json) => (hcm(c).codec_type = 'AUTOMATIC'), path: `${HCM}.codec_type`, message: /CodecType/ },
    {
      name: 'a port out of range',
      breakIt: (c: Json) => (c['admin'].address.socket_address.port_value = -1),
      path: '$.admin.address.socket_address.port_value',
      message: /uint32/,
    },
  ])('$name', ({ breakIt, path, message }) => {
    const problems = problemsOf(shippedEnvoy(breakIt));
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toBe(path);
    expect(problems[0]?.message).toMatch(message);
  });

  it.each([
    { name: 'not YAML', text: 'static_resources: [', message: /^YAML: / },
    { name: 'a duplicate key', text: 'admin: {}\nadmin: {}\n', message: /^YAML: .*[Uu]nique/ },
    { name: 'a list, not a mapping', text: '- admin\n', message: /is a mapping/ },
  ])('$name', ({ text, message }) => {
    expect(problemsOf(text)[0]?.message).toMatch(message);
  });
});

describe('readBootstrap: Envoy’s own conventions are accepted', () => {
  it('JSON as well as YAML, lowerCamel as well as snake_case names, durations as strings', () => {
    const json = parse(shippedEnvoy()) as Json;
    json['admin'] = { address: { socketAddress: { address: '127.0.0.1', portValue: 9901 } } };
    const bootstrap = readBootstrap(JSON.stringify(json), 'envoy.json');
    expect(bootstrap.admin?.address?.address.case).toBe('socketAddress');
    expect(bootstrap.staticResources?.clusters.map((c) => c.name)).toEqual(['callguard', 'function']);
    expect(bootstrap.overloadManager?.refreshInterval).toMatchObject({ seconds: 0n, nanos: 250_000_000 });
  });
});
