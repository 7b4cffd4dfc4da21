import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load-config.js';
import { configProblems } from '../../helpers/config-problems.js';

const dir = mkdtempSync(join(tmpdir(), 'callguard-relp-config-'));
const FILE = join(dir, 'callguard.yaml');

const withLog = (decisionLog: string) => `
identity:
  issuers:
    - { name: corp, issuer: https://idp.example.test, audiences: [callguard], algorithms: [RS256], jwksFile: jwks.json }
functions:
  - { name: reports.run, allow: [{ issuer: corp, subjects: [svc] }] }
decisionLog: ${decisionLog}
`;

const problemsOf = (text: string) => configProblems(text, FILE);

describe('decisionLog with a relp+tls:// destination', () => {
  it('keeps the URL, resolves the PEM files against the config file and fills the defaults', () => {
    const config = parseConfig(withLog('{ destination: "relp+tls://logs.example:6514", relp: { ca: pki/ca.pem, cert: pki/c.pem, key: /abs/c.key } }'), FILE);
    expect(config.decisionLog.destination).toBe('relp+tls://logs.example:6514');
    expect(config.decisionLog.relp).toEqual({
      ca: join(dir, 'pki/ca.pem'),
      cert: join(dir, 'pki/c.pem'),
      key: '/abs/c.key',
      connectTimeoutMs: 5000,
      ackTimeoutMs: 10000,
    });
  });

  it.each([
    { name: 'no ca', log: '{ destination: "relp+tls://h:6514" }', path: '/decisionLog/relp/ca', message: /^required with a relp\+tls:\/\/ destination/ },
    {
      name: 'fsync',
      log: '{ destination: "relp+tls://h:6514", durability: fsync, relp: { ca: ca.pem } }',
      path: '/decisionLog/durability',
      message: /^"fsync" needs a file destination; with a RELP receiver use "written"/,
    },
    {
      name: 'plain RELP',
      log: '{ destination: "relp://h:514", relp: { ca: ca.pem } }',
      path: '/decisionLog/destination',
      message: /RELP is spoken over TLS only/,
    },
    { name: 'no port', log: '{ destination: "relp+tls://h", relp: { ca: ca.pem } }', path: '/decisionLog/destination', message: /with a port$/ },
    {
      name: 'a path after the port',
      log: '{ destination: "relp+tls://h:6514/x", relp: { ca: ca.pem } }',
      path: '/decisionLog/destination',
      message: /nothing else$/,
    },
    {
      name: 'cert without key',
      log: '{ destination: "relp+tls://h:6514", relp: { ca: ca.pem, cert: c.pem } }',
      path: '/decisionLog/relp/cert',
      message: /^requires key$/,
    },
    {
      name: 'relp settings with a file destination',
      log: '{ destination: d.log, relp: { ca: ca.pem } }',
      path: '/decisionLog/relp',
      message: /only used with a relp\+tls/,
    },
    {
      name: 'an unknown relp key',
      log: '{ destination: "relp+tls://h:6514", relp: { ca: ca.pem, insecure: true } }',
      path: '/decisionLog/relp',
      message: /^unknown key "insecure"$/,
    },
  ])('$name → $path', ({ log, path, message }) => {
    const problems = problemsOf(withLog(log));
    expect(problems.map((p) => p.path)).toEqual([path]);
    expect(problems[0]?.message).toMatch(message);
  });
});
