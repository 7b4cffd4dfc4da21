import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load-config.js';
import type { Config } from '../../../src/config/types.js';
import { loadCases } from '../../../src/test-cases/load-cases.js';

const dir = mkdtempSync(join(tmpdir(), 'callguard-load-cases-'));
let config: Config;
beforeAll(() => {
  writeFileSync(
    join(dir, 'callguard.yaml'),
    `identity:
  issuers: [{ name: corp, issuer: https://corp.test, audiences: [a], algorithms: [ES256], jwksFile: absent.json }]
functions:
  - { name: f, match: { method: GET, path: /f }, allow: [{ issuer: corp, subjects: [a] }] }
decisionLog: { destination: stdout }
`,
  );
  config = loadConfig(join(dir, 'callguard.yaml'));
  writeFileSync(join(dir, 'body.json'), '{}');
});

function load(name: string, text: string) {
  const file = join(dir, `${name}.test.yaml`);
  writeFileSync(file, text);
  return { file, result: loadCases(file, config, 1_000) };
}

const GET = 'request: { method: GET, path: /f }';
const JWT = 'caller: { jwt: { iss: https://corp.test, sub: a } }';

/** Each invalid file: every problem, with the key path and message (all at once). */
const INVALID: { name: string; text: string; problems: [string, RegExp][] }[] = [
  { name: 'not YAML', text: 'cases: [', problems: [['', /^YAML \(line 1\): /]] },
  { name: 'a key twice', text: 'cases: []\ncases: []', problems: [['', /^YAML \(line 2\): Map keys must be unique/]] },
  { name: 'no cases', text: 'now: 2026-01-01T00:00:00Z', problems: [['', /must have required property 'cases'/]] },
  { name: 'an empty list', text: 'cases: []', problems: [['/cases', /must NOT have fewer than 1 items/]] },
  {
    name: 'a clock that is no time',
    text: `now: soon\ncases: [{ name: a, ${GET}, expect: { outcome: deny } }]`,
    problems: [['/now', /must match format "date-time"/]],
  },
  {
    name: 'shape problems of several cases at once',
    text: `cases:
  - { name: a, request: { method: get, path: f, body: 1, bodyFile: b }, expect: { outcome: maybe, colour: red } }
  - { name: b, ${GET}, caller: { jwt: { iss: x, sub: a }, apiKey: { owner: o } }, expect: { outcome: deny, status: 99 } }
  - { name: c, ${GET}, caller: { peer: { spiffeId: x, certificateFile: y } }, expect: { outcome: deny } }
  - { request: { method: GET }, expect: {} }
`,
    problems: [
      ['/cases/0/request', /give body or bodyFile, not both/],
      ['/cases/0/request/method', /must match pattern/],
      ['/cases/0/request/path', /must match pattern/],
      ['/cases/0/expect', /unknown key "colour"/],
      ['/cases/0/expect/outcome', /allow, deny, would-deny/],
      ['/cases/1/caller', /at most one credential/],
      ['/cases/1/expect/status', /must be >= 100/],
      ['/cases/2/caller/peer', /must NOT have more than 1 properties/],
      ['/cases/3', /required property 'name'/],
      ['/cases/3/request', /required property 'path'/],
      ['/cases/3/expect', /required property 'outcome'/],
    ],
  },
  {
    name: 'what only the config can tell, next to a shape problem',
    text: `cases:
  - { name: a, ${GET}, caller: { jwt: { iss: https://other.test, sub: a } }, expect: { outcome: deny } }
  - { name: b, ${GET}, caller: { saml: { idp: corp-idp, nameId: n } }, expect: { outcome: deny } }
  - { name: c, ${GET}, caller: { apiKey: { owner: o } }, expect: { outcome: deny } }
  - { name: d, ${GET}, tls: false, caller: { peer: { spiffeId: spiffe://example.org/a } }, expect: { outcome: deny } }
  - { name: e, request: { method: GET, path: /f, headers: { Authorization: Bearer x, DPoP: p } }, expect: { outcome: deny } }
  - { name: f, request: { method: GET, path: /f, bodyFile: missing.json }, caller: { peer: { certificateFile: missing.pem } }, expect: { outcome: deny } }
  - { name: g, ${GET}, ${JWT}, expect: { outcome: allow, status: 403, code: ERR_NOT_PERMITTED, violations: [{ pointer: /a }] } }
  - { name: h, ${GET}, ${JWT}, expect: { outcome: deny, code: ERR_NO_SUCH, upstreamHeaders: { a: b } } }
  - { name: a, ${GET}, expect: { outcome: deny } }
  - { name: i, ${GET}, expect: { outcome: nope } }
  - { name: j, request: { method: GET, path: /f, headers: { authorization: Basic eDp5 } }, ${JWT}, expect: { outcome: deny } }
`,
    problems: [
      ['/cases/9/expect/outcome', /allow, deny, would-deny/],
      ['/cases/0/caller/jwt/iss', /no configured issuer has issuer "https:\/\/other.test" \(configured: https:\/\/corp.test\)/],
      ['/cases/1/caller/saml/idp', /no identity.saml entry is named "corp-idp" \(configured: none\)/],
      ['/cases/2/caller/apiKey', /no API key store/],
      ['/cases/3/caller/peer', /needs TLS/],
      ['/cases/4/request/headers/dpop', /given as caller/],
      ['/cases/4/request/headers/authorization', /given as caller/],
      ['/cases/5/request/bodyFile', /cannot read .*missing.json: ENOENT/],
      ['/cases/5/caller/peer/certificateFile', /cannot read .*missing.pem: ENOENT/],
      ['/cases/6/expect/code', /an allowed call has no reason code/],
      ['/cases/6/expect/status', /answered 200/],
      ['/cases/6/expect/violations', /no violations/],
      ['/cases/7/expect/code', /"ERR_NO_SUCH" is not a reason code/],
      ['/cases/7/expect/upstreamHeaders', /goes nowhere upstream/],
      ['/cases/8/name', /"a" is also the name of \/cases\/0/],
      ['/cases/10/request/headers/authorization', /give one or the other/],
    ],
  },
];

describe('loadCases: an invalid file', () => {
  it.each(INVALID)('$name', ({ name, text, problems }) => {
    const { file, result } = load(name.replace(/\W+/g, '-'), text);
    if (result.ok) throw new Error('accepted');
    expect(result.problems.map((p) => p.file)).toEqual(problems.map(() => file));
    expect(result.problems.map((p) => [p.path, p.message])).toEqual(problems.map(([path, message]) => [path, expect.stringMatching(message)]));
  });

  it('a file that cannot be read', () => {
    const result = loadCases(join(dir, 'absent.test.yaml'), config, 0);
    expect(result).toEqual({ ok: false, problems: [{ file: join(dir, 'absent.test.yaml'), path: '', message: 'cannot read: ENOENT' }] });
  });
});

describe('loadCases: a valid file', () => {
  it('fills defaults, resolves files against its own directory, keeps another Authorization scheme', () => {
    const { result } = load(
      'valid',
      `cases:
  - { name: a, request: { method: GET, path: /f, bodyFile: body.json, headers: { authorization: Basic eDp5 } }, expect: { outcome: deny } }
`,
    );
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.value.nowMs).toBe(1_000);
    expect(result.value.cases).toEqual([
      {
        name: 'a',
        tls: true,
        request: { method: 'GET', path: '/f', host: 'callguard.test', bodyFile: join(dir, 'body.json'), headers: { authorization: 'Basic eDp5' } },
        expect: { outcome: 'deny' },
      },
    ]);
  });

  it('decides at its own clock when it gives one', () => {
    const { result } = load('clock', `now: 2026-01-01T00:00:00Z\ncases: [{ name: a, ${GET}, expect: { outcome: deny } }]`);
    expect(result.ok && result.value.nowMs).toBe(Date.parse('2026-01-01T00:00:00Z'));
  });
});
