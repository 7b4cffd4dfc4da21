import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'callguard-config-'));
const FILE = join(dir, 'callguard.yaml');

const VALID = `
identity:
  issuers:
    - name: corp
      issuer: https://idp.example.test
      audiences: [callguard]
      algorithms: [RS256]
      jwksFile: jwks.json
  spiffe:
    trustDomains: [example.org]
functions:
  - name: orders.create
    match: { method: POST, path: /orders }
    allow:
      - { issuer: corp, groups: [writers] }
      - { spiffeIds: [spiffe://example.org/ns/default/sa/billing] }
    input: { schema: schemas/orders.json, sensitive: [/card/number] }
decisionLog: { destination: logs/decisions.log }
`;

function problemsOf(text: string): { path: string; message: string; file: string }[] {
  try {
    parseConfig(text, FILE);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected ConfigError');
}

describe('parseConfig: valid', () => {
  const config = parseConfig(VALID, FILE);
  it('applies documented defaults', () => {
    expect(config.server.listen).toBe('127.0.0.1:9191');
    expect(config.identity.clockSkewSeconds).toBe(30);
    expect(config.identity.issuers[0]?.groupsClaim).toBe('groups');
    expect(config.identity.issuers[0]?.fetch.timeoutMs).toBe(150);
    expect(config.functions[0]?.requireMtls).toBe(false);
    expect(config.functions[0]?.input?.contentType).toBe('application/json');
    expect(config.upstream.headerPrefix).toBe('x-callguard-');
    expect(config.payload.maxDepth).toBe(32);
  });
  it('resolves file paths against the config directory', () => {
    expect(config.identity.issuers[0]?.jwksFile).toBe(join(dir, 'jwks.json'));
    expect(config.functions[0]?.input?.schema).toBe(join(dir, 'schemas/orders.json'));
    expect(config.decisionLog.destination).toBe(join(dir, 'logs/decisions.log'));
  });
  it('resolves a gRPC descriptor set and fills the grpc defaults', () => {
    const grpc = parseConfig(
      VALID.replace(
        'input: { schema: schemas/orders.json',
        'input: { contentType: application/grpc, grpc: { descriptorSet: protos/orders.binpb, method: a.B/C }, schema: schemas/orders.json',
      ),
      FILE,
    );
    expect(grpc.functions[0]?.input?.grpc).toEqual({ descriptorSet: join(dir, 'protos/orders.binpb'), method: 'a.B/C', unknownFields: 'deny', maxMessages: 1 });
  });
  it('is deeply frozen', () => {
    expect(Object.isFrozen(config.functions[0]?.allow)).toBe(true);
    expect(Object.isFrozen(config.identity.issuers[0])).toBe(true);
  });
});

describe('parseConfig: every problem, with file and key path', () => {
  it.each([
    { name: 'unknown top-level key', text: `${VALID}\nlisten: 1`, path: '', message: 'unknown key "listen"' },
    {
      name: 'unknown nested key',
      text: VALID.replace('audiences:', 'audience: [x]\n      audiences:'),
      path: '/identity/issuers/0',
      message: 'unknown key "audience"',
    },
    {
      name: 'alg none',
      text: VALID.replace('[RS256]', '[none]'),
      path: '/identity/issuers/0/algorithms/0',
      message: expect.stringMatching(/^must be equal to one of the allowed values: RS256, /),
    },
    {
      name: 'wrong type',
      text: VALID.replace('destination: logs/decisions.log', 'destination: 12'),
      path: '/decisionLog/destination',
      message: 'must be string',
    },
    {
      name: 'unknown issuer in rule',
      text: VALID.replace('{ issuer: corp, groups', '{ issuer: nope, groups'),
      path: '/functions/0/allow/0/issuer',
      message: 'unknown identity source "nope" (known: corp)',
    },
    {
      name: 'HS without secret',
      text: VALID.replace('[RS256]', '[RS256, HS256]'),
      path: '/identity/issuers/0/algorithms',
      message: 'HS* algorithms require hmacSecretFile',
    },
    {
      name: 'two key sources',
      text: VALID.replace('jwksFile: jwks.json', 'jwksFile: jwks.json\n      discovery: true'),
      path: '/identity/issuers/0',
      message: 'exactly one of jwksUrl, discovery, jwksFile is required for asymmetric algorithms',
    },
    {
      name: 'plain http jwks',
      text: VALID.replace('jwksFile: jwks.json', 'jwksUrl: http://idp.example.test/jwks'),
      path: '/identity/issuers/0/jwksUrl',
      message: 'must be https (http only on loopback)',
    },
    {
      name: 'spiffe id outside trust domains',
      text: VALID.replace('spiffe://example.org/ns', 'spiffe://evil.org/ns'),
      path: '/functions/0/allow/1/spiffeIds/0',
      message: '"spiffe://evil.org/ns/default/sa/billing" is not in a configured identity.spiffe.trustDomains entry',
    },
    {
      name: 'bad path template',
      text: VALID.replace('path: /orders }', 'path: /orders//x }'),
      path: '/functions/0/match/path',
      message: 'empty, "." or ".." segment in "/orders//x"',
    },
    {
      name: 'rule without subjects or groups',
      text: VALID.replace('{ issuer: corp, groups: [writers] }', '{ issuer: corp }'),
      path: '/functions/0/allow/0',
      message: "must have required property 'subjects'",
    },
    {
      name: 'claim pointer with a bad escape',
      text: VALID.replace('{ issuer: corp, groups: [writers] }', '{ issuer: corp, claims: { "/a~2b": x } }'),
      path: '/functions/0/allow/0/claims/~1a~02b',
      message: 'a JSON pointer may use "~" only as "~0" or "~1" (RFC 6901 §3)',
    },
    {
      name: 'claim value an object',
      text: VALID.replace('{ issuer: corp, groups: [writers] }', '{ issuer: corp, claims: { ref: { a: 1 } } }'),
      path: '/functions/0/allow/0/claims/ref',
      message: 'must be string,number,boolean',
    },
    {
      name: 'empty claims',
      text: VALID.replace('{ issuer: corp, groups: [writers] }', '{ issuer: corp, claims: {} }'),
      path: '/functions/0/allow/0/claims',
      message: 'must NOT have fewer than 1 properties',
    },
    {
      name: 'groupsClaim pointer with a bad escape',
      text: VALID.replace('jwksFile: jwks.json', 'jwksFile: jwks.json\n      groupsClaim: /a~'),
      path: '/identity/issuers/0/groupsClaim',
      message: 'a JSON pointer may use "~" only as "~0" or "~1" (RFC 6901 §3)',
    },
    {
      name: 'key store named like an issuer',
      text: VALID.replace('  spiffe:', '  apiKeys: { name: corp, file: keys.json }\n  spiffe:'),
      path: '/identity/apiKeys/name',
      message: 'duplicate identity source name "corp" (issuers, SAML identity providers and the API key store share one namespace)',
    },
    {
      name: 'key header is Authorization',
      text: VALID.replace('  spiffe:', '  apiKeys: { file: keys.json, header: authorization }\n  spiffe:'),
      path: '/identity/apiKeys/header',
      message: 'keys in Authorization are read as `ApiKey <key>` already; name another header',
    },
    {
      name: 'key header with the upstream prefix',
      text: VALID.replace('  spiffe:', '  apiKeys: { file: keys.json, header: x-callguard-key }\n  spiffe:'),
      path: '/identity/apiKeys/header',
      message: 'must not start with upstream.headerPrefix "x-callguard-" (callguard sets those)',
    },
    {
      name: 'singleUse where nothing accepted can be single-use',
      text: VALID.replace('    match: { method: POST, path: /orders }', '    match: { method: POST, path: /orders }\n    singleUse: true').replace(
        '{ issuer: corp, groups: [writers] }',
        '{ spiffeIds: [spiffe://example.org/ns/default/sa/x] }',
      ),
      path: '/functions/0/singleUse',
      message: 'no rule names a JWT issuer or a SAML identity provider: nothing this function accepts can be single-use',
    },
    {
      name: 'rule naming the key store when none is configured',
      text: VALID.replace('{ issuer: corp, groups: [writers] }', '{ issuer: apiKeys, groups: [ci] }'),
      path: '/functions/0/allow/0/issuer',
      message: 'unknown identity source "apiKeys" (known: corp)',
    },
  ])('$name', ({ text, path, message }) => {
    const problems = problemsOf(text);
    expect(problems).toContainEqual({ file: FILE, path, message });
  });

  it('reports all problems at once', () => {
    const text = VALID.replace('[RS256]', '[none]')
      .replace('destination: logs/decisions.log', 'destination: 12')
      .replace('{ issuer: corp, groups', '{ issuer: corp, grups');
    const paths = problemsOf(text).map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['/identity/issuers/0/algorithms/0', '/decisionLog/destination', '/functions/0/allow/0']));
  });

  it.each([
    {
      name: 'duplicate function names',
      text: VALID.replace(
        'decisionLog:',
        `  - name: orders.create\n    match: { method: GET, path: /x }\n    allow: [{ issuer: corp, groups: [g] }]\ndecisionLog:`,
      ),
      path: '/functions/1/name',
    },
    {
      name: 'duplicate route',
      text: VALID.replace(
        'decisionLog:',
        `  - name: other\n    match: { method: POST, path: /orders }\n    allow: [{ issuer: corp, groups: [g] }]\ndecisionLog:`,
      ),
      path: '/functions/1/match',
    },
  ])('$name', ({ text, path }) => {
    expect(problemsOf(text).map((p) => p.path)).toContain(path);
  });

  it.each([
    { name: 'YAML syntax error', text: 'functions: [\n', want: /^YAML: / },
    { name: 'duplicate YAML key', text: 'functions: []\nfunctions: []\n', want: /^YAML: .*unique/i },
  ])('$name', ({ text, want }) => {
    const [problem] = problemsOf(text);
    expect(problem?.message).toMatch(want);
  });

  it('names the file when it cannot be read', () => {
    expect(() => loadConfig(join(dir, 'missing.yaml'))).toThrowError(/missing\.yaml: \/: cannot read: ENOENT/);
  });

  it('loads from a file', () => {
    writeFileSync(FILE, VALID);
    expect(loadConfig(FILE).file).toBe(FILE);
  });
});
