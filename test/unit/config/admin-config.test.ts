import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load-config.js';
import { configProblems } from '../../helpers/config-problems.js';

const FILE = join('/etc/callguard', 'callguard.yaml');
const config = (admin: string) => `
server: { listen: "127.0.0.1:9191" }
${admin}
identity:
  issuers: [{ name: corp, issuer: https://idp.example.test, audiences: [callguard], algorithms: [RS256], jwksFile: jwks.json }]
functions:
  - { name: reports.run, allow: [{ issuer: corp, groups: [g] }] }
`;

const problemsOf = (text: string) => configProblems(text, FILE);

describe('admin: defaults', () => {
  it('is on, on loopback, at 127.0.0.1:9192', () => {
    expect(parseConfig(config(''), FILE).admin).toEqual({ enabled: true, listen: '127.0.0.1:9192', allowNonLoopback: false });
  });
});

describe('admin.listen: loopback unless allowNonLoopback', () => {
  it.each([
    { name: 'IPv4 loopback', admin: 'admin: { listen: "127.0.0.1:0" }' },
    { name: 'another 127/8 address', admin: 'admin: { listen: "127.0.0.2:9192" }' },
    { name: 'IPv6 loopback', admin: 'admin: { listen: "[::1]:9192" }' },
    { name: 'localhost', admin: 'admin: { listen: "localhost:9192" }' },
    { name: 'any address, allowed', admin: 'admin: { listen: "0.0.0.0:9192", allowNonLoopback: true }' },
    { name: 'disabled, whatever the address', admin: 'admin: { enabled: false, listen: "0.0.0.0:9192" }' },
  ])('$name: accepted', ({ admin }) => {
    expect(problemsOf(config(admin))).toEqual([]);
  });

  it.each([
    {
      name: 'any IPv4 address',
      admin: 'admin: { listen: "0.0.0.0:9192" }',
      message: /"0\.0\.0\.0" is not a loopback address: .*admin\.allowNonLoopback: true/,
    },
    { name: 'any IPv6 address', admin: 'admin: { listen: "[::]:9192" }', message: /"::" is not a loopback address/ },
    { name: 'a host name', admin: 'admin: { listen: "callguard:9192" }', message: /"callguard" is not a loopback address/ },
    { name: 'a port out of range', admin: 'admin: { listen: "127.0.0.1:70000" }', message: /^port 70000 is out of range/ },
    { name: "the gRPC server's address", admin: 'admin: { listen: "127.0.0.1:9191" }', message: /^same address as server\.listen$/ },
    { name: 'an unknown key', admin: 'admin: { port: 9192 }', message: /^unknown key "port"$/ },
  ])('$name: refused, naming /admin/listen', ({ admin, message }) => {
    const problems = problemsOf(config(admin));
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toMatch(/^\/admin(\/listen)?$/);
    expect(problems[0]?.message).toMatch(message);
  });
});
