import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig } from '../../../src/config/load-config.js';
import type { Config } from '../../../src/config/types.js';
import { compileInputs } from '../../../src/decision-core.js';
import type { PayloadInspector } from '../../../src/payload/payload-inspector.js';
import { loadCases } from '../../../src/test-cases/load-cases.js';
import { runCases } from '../../../src/test-cases/run-cases.js';
import { createTestCerts } from '../../helpers/test-certs.js';

const dir = mkdtempSync(join(tmpdir(), 'callguard-test-cases-'));
const NOW = Date.parse('2026-01-01T00:00:00Z');

// Every identity kind and function setting a case can exercise; no key file exists: cases never read one.
const CONFIG = `
identity:
  issuers:
    - { name: corp, issuer: https://corp.test, audiences: [callguard], algorithms: [ES256], groupsClaim: /realm_access/roles, jwksFile: absent.json }
  saml:
    - { name: idp, metadataFile: absent.xml, audiences: [callguard], groupsAttribute: memberOf }
  apiKeys: { file: absent-keys.json, header: x-api-key }
  spiffe: { trustDomains: [example.org] }
functions:
  - name: reports.read
    match: { method: GET, path: /reports }
    allow:
      - { issuer: corp, groups: [analysts] }
      - { issuer: corp, claims: { tenant: acme } }
      - { issuer: idp, groups: [analysts] }
      - { issuer: apiKeys, groups: [analysts] }
      - { spiffeIds: ["spiffe://example.org/ns/default/sa/reporter"] }
  - name: reports.write
    match: { method: POST, path: /reports }
    allow: [{ issuer: corp, groups: [writers] }]
    input: { schema: report.json }
  - name: legacy.call
    match: { method: POST, path: /legacy }
    mode: shadow
    allow: [{ issuer: corp, groups: [legacy] }]
  - name: mtls.only
    match: { method: POST, path: /mtls }
    requireMtls: true
    allow: [{ spiffeIds: ["spiffe://example.org/ns/default/sa/reporter"] }]
  - name: once
    match: { method: POST, path: /once }
    singleUse: true
    allow: [{ issuer: corp, groups: [analysts] }]
  - name: weather.mcp
    match: { method: POST, path: /mcp }
    allow: [{ issuer: corp, groups: [analysts, writers] }]
    mcp:
      tools:
        - { name: get_weather, allow: [{ issuer: corp, groups: [analysts] }], schema: weather.json }
decisionLog: { destination: stdout }
`;

let config: Config;
let inputs: ReadonlyMap<string, PayloadInspector>;
let certs: ReturnType<typeof createTestCerts>;
beforeAll(() => {
  writeFileSync(
    join(dir, 'report.json'),
    JSON.stringify({ type: 'object', additionalProperties: false, required: ['title'], properties: { title: { type: 'string', maxLength: 5 } } }),
  );
  writeFileSync(join(dir, 'report-body.json'), '{"title":"Q1"}');
  writeFileSync(join(dir, 'weather.json'), JSON.stringify({ type: 'object', required: ['city'], properties: { city: { type: 'string', maxLength: 8 } } }));
  writeFileSync(join(dir, 'callguard.yaml'), CONFIG);
  config = loadConfig(join(dir, 'callguard.yaml'));
  const compiled = compileInputs(config);
  expect(compiled.problems).toEqual([]);
  inputs = compiled.inputs;
  certs = createTestCerts();
  writeFileSync(join(dir, 'reporter.pem'), certs.leaf('reporter', 'URI:spiffe://example.org/ns/default/sa/reporter').pem);
  writeFileSync(join(dir, 'two-uris.pem'), certs.leaf('two', 'URI:spiffe://example.org/a,URI:spiffe://example.org/b').pem);
});
afterAll(() => certs?.cleanup?.());

const analyst = { jwt: { iss: 'https://corp.test', sub: 'ann', realm_access: { roles: ['analysts'] } } };
const read = { method: 'GET', path: '/reports' };
const mtls = { method: 'POST', path: '/mtls' };
const writer = { jwt: { iss: 'https://corp.test', sub: 'w', realm_access: { roles: ['writers'] } } };
const toolCall = (name: string, args: object) => ({
  method: 'POST',
  path: '/mcp',
  body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } },
});

/** Each case of the table is decided alone; `got` is compared field by field (what the runner reports). */
const CASES: { name: string; request: object; caller?: object; tls?: boolean; got: object }[] = [
  { name: 'jwt: groups read from groupsClaim (a JSON pointer)', request: read, caller: analyst, got: { outcome: 'allow', status: 200 } },
  {
    name: 'jwt: a claim rule',
    request: read,
    caller: { jwt: { iss: 'https://corp.test', sub: 'tim', tenant: 'acme' } },
    got: { outcome: 'allow', upstreamHeaders: expect.objectContaining({ 'x-callguard-subject': 'tim', 'x-callguard-issuer': 'https://corp.test' }) },
  },
  {
    name: 'jwt: groups in another claim do not count',
    request: read,
    caller: { jwt: { iss: 'https://corp.test', sub: 'ann', groups: ['analysts'] } },
    got: { outcome: 'deny', status: 403, code: 'ERR_NOT_PERMITTED' },
  },
  {
    name: 'saml: groups from groupsAttribute',
    request: read,
    caller: { saml: { idp: 'idp', nameId: 'sam@corp.test', attributes: { memberOf: ['analysts'] } } },
    got: { outcome: 'allow', upstreamHeaders: expect.objectContaining({ 'x-callguard-credential': 'saml', 'x-callguard-subject': 'sam@corp.test' }) },
  },
  {
    name: 'saml: another attribute is not groups',
    request: read,
    caller: { saml: { idp: 'idp', nameId: 'sam', attributes: { role: ['analysts'] } } },
    got: { outcome: 'deny', code: 'ERR_NOT_PERMITTED' },
  },
  {
    name: 'apiKey: owner and groups',
    request: read,
    caller: { apiKey: { owner: 'ci', groups: ['analysts'] } },
    got: { outcome: 'allow', removedHeaders: expect.arrayContaining(['authorization', 'x-api-key']) },
  },
  {
    name: 'apiKey: limited to other functions',
    request: read,
    caller: { apiKey: { owner: 'ci', groups: ['analysts'], functions: ['once'] } },
    got: { outcome: 'deny', code: 'ERR_NOT_PERMITTED' },
  },
  { name: 'peer: SPIFFE ID', request: read, caller: { peer: { spiffeId: 'spiffe://example.org/ns/default/sa/reporter' } }, got: { outcome: 'allow' } },
  {
    name: 'peer: required, SPIFFE ID',
    request: mtls,
    caller: { peer: { spiffeId: 'spiffe://example.org/ns/default/sa/reporter' } },
    got: { outcome: 'allow' },
  },
  {
    name: 'peer: required, from an untrusted domain',
    request: mtls,
    caller: { peer: { spiffeId: 'spiffe://other.org/ns/default/sa/reporter' } },
    got: { outcome: 'deny', status: 403, code: 'ERR_PEER_UNTRUSTED' },
  },
  {
    name: 'peer: where optional, an untrusted one does not count',
    request: read,
    caller: { peer: { spiffeId: 'spiffe://other.org/ns/default/sa/reporter' } },
    got: { outcome: 'deny', code: 'ERR_CREDENTIAL_MISSING' },
  },
  {
    name: 'peer: a CA certificate (facts)',
    request: mtls,
    caller: { peer: { certificate: { uriSans: ['spiffe://example.org/ns/default/sa/reporter'], ca: true } } },
    got: { outcome: 'deny', code: 'ERR_PEER_INVALID' },
  },
  {
    name: 'peer: two URI SANs (facts)',
    request: mtls,
    caller: { peer: { certificate: { uriSans: ['spiffe://example.org/a', 'spiffe://example.org/b'] } } },
    got: { outcome: 'deny', code: 'ERR_PEER_INVALID' },
  },
  { name: 'peer: none where required', request: mtls, caller: analyst, got: { outcome: 'deny', code: 'ERR_MTLS_REQUIRED' } },
  { name: 'peer: a certificate file', request: mtls, caller: { peer: { certificateFile: 'reporter.pem' } }, got: { outcome: 'allow' } },
  {
    name: 'peer: a certificate file with two URI SANs',
    request: mtls,
    caller: { peer: { certificateFile: 'two-uris.pem' } },
    got: { outcome: 'deny', code: 'ERR_PEER_INVALID' },
  },
  {
    name: 'jwt and peer together: both named upstream',
    request: read,
    caller: { ...analyst, peer: { spiffeId: 'spiffe://example.org/ns/default/sa/reporter' } },
    got: {
      outcome: 'allow',
      upstreamHeaders: expect.objectContaining({ 'x-callguard-subject': 'ann', 'x-callguard-spiffe-id': 'spiffe://example.org/ns/default/sa/reporter' }),
    },
  },
  { name: 'anonymous', request: read, got: { outcome: 'deny', status: 401, code: 'ERR_CREDENTIAL_MISSING' } },
  {
    name: 'another Authorization scheme is refused as the server refuses it',
    request: { ...read, headers: { Authorization: 'Basic YTpi' } },
    got: { outcome: 'deny', status: 401, code: 'ERR_CREDENTIAL_SCHEME' },
  },
  { name: 'plaintext', request: read, caller: analyst, tls: false, got: { outcome: 'deny', status: 403, code: 'ERR_TLS_REQUIRED' } },
  {
    name: 'body: violations with pointer and keyword',
    request: { method: 'POST', path: '/reports', body: { title: 'too long', extra: 1 } },
    caller: { jwt: { iss: 'https://corp.test', sub: 'w', realm_access: { roles: ['writers'] } } },
    got: {
      outcome: 'deny',
      status: 400,
      code: 'ERR_BODY_SCHEMA',
      violations: expect.arrayContaining([
        expect.objectContaining({ pointer: '/title', keyword: 'maxLength' }),
        expect.objectContaining({ keyword: 'additionalProperties' }),
      ]),
    },
  },
  {
    name: 'body: a file',
    request: { method: 'POST', path: '/reports', bodyFile: 'report-body.json' },
    caller: { jwt: { iss: 'https://corp.test', sub: 'w', realm_access: { roles: ['writers'] } } },
    got: { outcome: 'allow' },
  },
  {
    name: 'body: a string is sent as it is',
    request: { method: 'POST', path: '/reports', body: '{"title":"Q1"' },
    caller: { jwt: { iss: 'https://corp.test', sub: 'w', realm_access: { roles: ['writers'] } } },
    got: { outcome: 'deny', code: 'ERR_BODY_INVALID_JSON' },
  },
  {
    name: 'body: none where a schema wants one',
    request: { method: 'POST', path: '/reports', headers: { 'content-type': 'application/json' } },
    caller: { jwt: { iss: 'https://corp.test', sub: 'w', realm_access: { roles: ['writers'] } } },
    got: { outcome: 'deny', code: 'ERR_BODY_MISSING' },
  },
  {
    name: 'shadow: a denial is would-deny, with its status and code',
    request: { method: 'POST', path: '/legacy' },
    caller: analyst,
    got: { outcome: 'would-deny', status: 403, code: 'ERR_NOT_PERMITTED' },
  },
  {
    name: 'single use: a token with a jti',
    request: { method: 'POST', path: '/once' },
    caller: { jwt: { ...analyst.jwt, jti: 'j-1' } },
    got: { outcome: 'allow' },
  },
  {
    name: 'single use: a token without one',
    request: { method: 'POST', path: '/once' },
    caller: analyst,
    got: { outcome: 'deny', code: 'ERR_CREDENTIAL_REUSABLE' },
  },
  // An MCP endpoint decides through the same decide: the tool's rules and schema, its GET and DELETE.
  { name: 'mcp: a tool call the tool allows', request: toolCall('get_weather', { city: 'Oslo' }), caller: analyst, got: { outcome: 'allow' } },
  {
    name: "mcp: a caller the function allows but not the tool's rules",
    request: toolCall('get_weather', { city: 'Oslo' }),
    caller: writer,
    got: { outcome: 'deny', status: 403, code: 'ERR_NOT_PERMITTED' },
  },
  {
    name: 'mcp: arguments against the tool schema',
    request: toolCall('get_weather', { city: 'Reykjavik-by-the-sea' }),
    caller: analyst,
    got: { outcome: 'deny', status: 400, code: 'ERR_BODY_SCHEMA', violations: [expect.objectContaining({ pointer: '/params/arguments/city' })] },
  },
  { name: 'mcp: an unknown tool', request: toolCall('drop_tables', {}), caller: analyst, got: { outcome: 'deny', code: 'ERR_MCP_TOOL_UNKNOWN' } },
  { name: 'mcp: GET', request: { method: 'GET', path: '/mcp' }, caller: analyst, got: { outcome: 'deny', status: 405, code: 'ERR_MCP_HTTP_METHOD' } },
  { name: 'mcp: DELETE ends a session', request: { method: 'DELETE', path: '/mcp' }, caller: writer, got: { outcome: 'allow' } },
];

describe('runCases: each case decided by the server decide, the caller as given', () => {
  it.each(CASES)('$name', async ({ name, request, caller, tls, got }) => {
    const file = join(dir, `${CASES.findIndex((c) => c.name === name)}.test.yaml`);
    writeFileSync(
      file,
      stringify({ cases: [{ name, request, ...(caller ? { caller } : {}), ...(tls !== undefined ? { tls } : {}), expect: { outcome: 'allow' } }] }),
    );
    const loaded = loadCases(file, config, NOW);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const [result] = await runCases(config, inputs, loaded.value);
    expect(result?.got).toMatchObject(got);
  });

  it('cases are independent: a single-use jti used by one case is fresh in the next', async () => {
    const file = join(dir, 'twice.test.yaml');
    const c = { request: { method: 'POST', path: '/once' }, caller: { jwt: { ...analyst.jwt, jti: 'same' } }, expect: { outcome: 'allow' } };
    writeFileSync(
      file,
      stringify({
        cases: [
          { name: 'first', ...c },
          { name: 'second', ...c },
        ],
      }),
    );
    const loaded = loadCases(file, config, NOW);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const results = await runCases(config, inputs, loaded.value);
    expect(results.map((r) => [r.got.outcome, r.mismatches])).toEqual([
      ['allow', []],
      ['allow', []],
    ]);
  });
});
