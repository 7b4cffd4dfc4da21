import { describe, expect, it } from 'vitest';
import { createLineOfPath } from '../../../src/envoy-lint/line-of-path.js';

const YAML = `admin:
  address:
    socketAddress: { address: 0.0.0.0, port_value: 9901 }
static_resources:
  clusters:
    - name: a
    - name: b
      "@odd": x
      transport_socket:
`;

describe('createLineOfPath', () => {
  it.each([
    { name: 'a snake_case path into lowerCamel keys', path: '$.admin.address.socket_address.address', line: 3 },
    { name: 'a list index', path: '$.static_resources.clusters[1].name', line: 7 },
    { name: 'a quoted key', path: "$.static_resources.clusters[1]['@odd']", line: 8 },
    { name: 'a key without a value', path: '$.static_resources.clusters[1].transport_socket', line: 9 },
    { name: 'an unset field: its parent', path: '$.static_resources.clusters[0].transport_socket.typed_config', line: 6 },
    { name: 'the root', path: '$', line: 1 },
  ])('$name → line $line', ({ path, line }) => {
    expect(createLineOfPath(YAML)(path)).toBe(line);
  });
});
