import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load-config.js';
import { RESTART_ONLY, restartOnlyChanges } from '../../../src/reload/restart-only.js';

const BASE = `
server: { listen: "127.0.0.1:0" }
identity:
  issuers:
    - { name: corp, issuer: https://idp.example, audiences: [callguard], algorithms: [ES256], jwksFile: /etc/callguard/jwks.json }
functions:
  - name: orders.get
    match: { method: GET, path: "/orders/{id}" }
    allow: [{ issuer: corp, groups: [readers] }]
`;
const config = (extra = '', base = BASE) => parseConfig(`${base}${extra}`, '/etc/callguard/callguard.yaml');

describe('restartOnlyChanges: what a reload cannot apply', () => {
  it.each([
    {
      name: 'another function and rule',
      next: () => config('  - name: orders.create\n    match: { method: POST, path: /orders }\n    allow: [{ issuer: corp, groups: [writers] }]\n'),
      want: [],
    },
    { name: 'payload limits', next: () => config('payload: { maxDepth: 8 }\n'), want: [] },
    { name: 'the same decision log written in another key order', next: () => config('decisionLog: { durability: written, destination: stdout }\n'), want: [] },
    { name: 'the listen address', next: () => config('', BASE.replace('127.0.0.1:0', '127.0.0.1:9999')), want: ['/server'] },
    { name: 'the decision log destination', next: () => config('decisionLog: { destination: stderr }\n'), want: ['/decisionLog'] },
    { name: 'the replay store', next: () => config('replay: { maxEntries: 5000 }\n'), want: ['/replay'] },
    { name: 'the admin listener', next: () => config('admin: { enabled: false }\n'), want: ['/admin'] },
    { name: 'the upstream header prefix', next: () => config('upstream: { headerPrefix: x-auth- }\n'), want: ['/upstream'] },
  ])('$name → $want', ({ next, want }) => {
    const problems = restartOnlyChanges(config(), next());
    expect(problems.map((p) => p.path)).toEqual(want);
    for (const p of problems) expect([p.file, p.message]).toEqual(['/etc/callguard/callguard.yaml', expect.stringMatching(/only a restart applies it/)]);
  });

  it('names exactly the sections that hold running resources', () => {
    expect(RESTART_ONLY).toEqual(['server', 'admin', 'decisionLog', 'replay', 'upstream']);
  });
});
