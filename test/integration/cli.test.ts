import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHARGE_SCHEMA, ORDERS_SCHEMA } from '../helpers/callguard-fixture.js';
import { createCheckClient, summarize } from '../helpers/envoy-check.js';
import { createTestIssuer, type TestIssuer } from '../helpers/jwt-issuer.js';

const CLI = join(import.meta.dirname, '../../src/cli/main.ts');
// One process (no tsx wrapper in between), so signals reach callguard itself.
const NODE_ARGS = ['--import', 'tsx', CLI];
const dir = mkdtempSync(join(tmpdir(), 'callguard-cli-'));

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return once(child, 'exit').then(([code]) => ({ code: code as number | null, stdout, stderr }));
}

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
  writeFileSync(join(dir, 'orders.json'), JSON.stringify(ORDERS_SCHEMA));
  writeFileSync(join(dir, 'charge.json'), JSON.stringify(CHARGE_SCHEMA));
  writeFileSync(join(dir, 'broken.json'), '{"type": "object", "properties": {"a": {"type": "strin"}}}');
  writeFileSync(join(dir, 'redos.json'), '{"type": "string", "pattern": "^(a)\\\\1$"}');
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [issuer.rs256.publicJwk] }));
});
afterAll(() => issuer.close());

const GOOD = (logFile: string) => `
server: { listen: "127.0.0.1:0" }
admin: { listen: "127.0.0.1:0" }
identity:
  issuers:
    - { name: corp, issuer: "${'https://issuer.example.test'}", audiences: [callguard], algorithms: [RS256], jwksFile: jwks.json }
functions:
  - name: orders.create
    match: { method: POST, path: /orders }
    allow: [{ issuer: corp, groups: [orders-writers] }]
    input: { schema: orders.json }
decisionLog: { destination: ${logFile} }
`;

describe('callguard check', () => {
  it('accepts a valid configuration', async () => {
    writeFileSync(join(dir, 'good.yaml'), GOOD('decisions.log'));
    const result = await run(['check', '--config', join(dir, 'good.yaml')]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/good\.yaml: ok \(1 functions, 1 issuers\)/);
  });

  it('lists every problem (config keys and function schemas) and exits 1', async () => {
    const bad = GOOD('decisions.log')
      .replace('algorithms: [RS256]', 'algorithms: [none]')
      .replace('allow: [{ issuer: corp', 'alow: 1\n    allow: [{ issuer: corp');
    writeFileSync(join(dir, 'bad.yaml'), bad);
    const result = await run(['check', '--config', join(dir, 'bad.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/bad\.yaml: \/identity\/issuers\/0\/algorithms\/0: must be equal to one of the allowed values/);
    expect(result.stderr).toMatch(/bad\.yaml: \/functions\/0: unknown key "alow"/);
  });

  it('lists every function schema problem once the config itself is valid', async () => {
    const text = GOOD('decisions.log').replace(
      'decisionLog:',
      '  - name: f2\n    allow: [{ issuer: corp, groups: [g] }]\n    input: { schema: broken.json }\n  - name: f3\n    allow: [{ issuer: corp, groups: [g] }]\n    input: { schema: redos.json }\n  - name: f4\n    allow: [{ issuer: corp, groups: [g] }]\n    input: { schema: missing.json }\ndecisionLog:',
    );
    writeFileSync(join(dir, 'schemas.yaml'), text);
    const result = await run(['check', '--config', join(dir, 'schemas.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/broken\.json: \/functions\/1\/input\/schema: /);
    expect(result.stderr).toMatch(/redos\.json: \/functions\/2\/input\/schema: /);
    expect(result.stderr).toMatch(/\/functions\/3\/input\/schema: .*missing\.json|missing\.json.*\/functions\/3\/input\/schema/);
  });

  it('lists function schema, key file and decision log problems at once, creating nothing', async () => {
    writeFileSync(join(dir, 'a-file'), '');
    const text = GOOD(join(dir, 'a-file', 'logs', 'decisions.log'))
      .replace('jwksFile: jwks.json', 'jwksFile: no-such-jwks.json')
      .replace('decisionLog:', '  - name: f2\n    allow: [{ issuer: corp, groups: [g] }]\n    input: { schema: broken.json }\ndecisionLog:');
    writeFileSync(join(dir, 'log-and-schema.yaml'), text);
    const result = await run(['check', '--config', join(dir, 'log-and-schema.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/invalid configuration \(4 problems\)/); // broken.json has two
    expect(result.stderr).toMatch(/no-such-jwks\.json/);
    expect(result.stderr).toMatch(/broken\.json: \/functions\/1\/input\/schema: /);
    expect(result.stderr).toMatch(
      /log-and-schema\.yaml: \/decisionLog\/destination: cannot create ".*a-file\/logs\/decisions\.log": ".*a-file" is not a directory/,
    );
    expect(result.stdout).toBe('');
  });

  it('explains usage errors', async () => {
    const result = await run(['check']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/missing --config FILE/);
  });
});

describe('callguard serve', () => {
  it('refuses to start on an invalid configuration', async () => {
    writeFileSync(join(dir, 'refuse.yaml'), `${GOOD('decisions.log')}\nbogus: true\n`);
    const result = await run(['serve', '--config', join(dir, 'refuse.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/refuse\.yaml: \/: unknown key "bogus"[\s\S]*refusing to start/);
  });

  it('refuses to start when the decision log file cannot be opened', async () => {
    writeFileSync(join(dir, 'not-a-dir'), '');
    writeFileSync(join(dir, 'no-log.yaml'), GOOD(join(dir, 'not-a-dir', 'decisions.log')));
    const result = await run(['serve', '--config', join(dir, 'no-log.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /no-log\.yaml: \/decisionLog\/destination: cannot open ".*not-a-dir\/decisions\.log" for appending: EEXIST: file already exists, mkdir '.*not-a-dir'\nrefusing to start/,
    );
    expect(result.stderr).not.toContain('callguard listening');
  });

  it('serves, writes the decision log to a file, answers health checks, drains on SIGTERM', async () => {
    const logFile = join(dir, 'serve-decisions.log');
    writeFileSync(join(dir, 'serve.yaml'), GOOD(logFile));
    const child = spawn(process.execPath, [...NODE_ARGS, 'serve', '--config', join(dir, 'serve.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = createInterface({ input: child.stderr });
    let address = '';
    for await (const line of lines) {
      if (line.includes('"msg":"callguard listening"')) {
        address = (JSON.parse(line) as { address: string }).address;
        break;
      }
    }
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    const client = createCheckClient(address);
    const s = summarize(await client.check({ headers: { 'x-request-id': 'cli-1' } }));
    expect(s.allow).toBe(false);
    client.close();
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    const { readFileSync } = await import('node:fs');
    const logged = readFileSync(logFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged.map((l) => l.msg)).toEqual(['decision-log-start', 'decision']);
    expect(logged[0]).toMatchObject({ seq: 0, prev: null, reason: 'start', configDigest: expect.stringMatching(/^[A-Za-z0-9_-]{16}$/) });
    // Each decision names the config (file and schemas) that decided it: the one the start line names.
    expect(logged[1]?.['config']).toBe(logged[0]?.['configDigest']);
    expect(logged[1]).toMatchObject({ seq: 1, requestId: 'cli-1', outcome: 'deny', code: 'ERR_CREDENTIAL_MISSING' });
    // The chain checks out (callguard verify-log).
    const verified = await run(['verify-log', logFile]);
    expect(verified.code).toBe(0);
    // A cold tsx start and a drain of up to 5 s on a loaded 2-core machine: more than the default 20 s.
  }, 60_000);

  it('SIGHUP after logrotate moved the file: keeps serving, starts a new file on the same chain', async () => {
    const { readFileSync, renameSync } = await import('node:fs');
    const logFile = join(dir, 'hup-decisions.log');
    writeFileSync(join(dir, 'hup.yaml'), GOOD(logFile));
    const child = spawn(process.execPath, [...NODE_ARGS, 'serve', '--config', join(dir, 'hup.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    const stderr = createInterface({ input: child.stderr });
    const seen: string[] = [];
    let address = '';
    for await (const line of stderr) {
      if (line.includes('"msg":"callguard listening"')) {
        address = (JSON.parse(line) as { address: string }).address;
        break;
      }
    }
    stderr.on('line', (line) => seen.push(line));
    const client = createCheckClient(address);
    await client.check({ headers: { 'x-request-id': 'hup-1' } });
    renameSync(logFile, `${logFile}.1`);
    child.kill('SIGHUP');
    for (let waited = 0; !seen.some((l) => l.includes('"signal":"SIGHUP"')) && waited < 10_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    await client.check({ headers: { 'x-request-id': 'hup-2' } });
    client.close();
    expect(child.exitCode).toBeNull(); // SIGHUP did not end it
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    const lines = (f: string) =>
      readFileSync(f, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines(`${logFile}.1`).map((l) => l.requestId ?? l.msg)).toEqual(['decision-log-start', 'hup-1']);
    expect(lines(logFile).map((l) => l.requestId ?? l.reason)).toEqual(['reopen', 'hup-2']);
    expect((await run(['verify-log', `${logFile}.1`, logFile])).code).toBe(0);
    expect((await run(['verify-log', '--rotated', logFile])).stdout).toMatch(/^ok: 2 file\(s\), 4 lines/);
  }, 60_000);

  it.each([
    { name: 'intact', tamper: (text: string) => text, code: 0, out: /^ok: 1 file\(s\), 2 lines \(seq 0–1\)/ },
    {
      name: 'the start line altered',
      tamper: (text: string) => text.replace('"reason":"start"', '"reason":"other"'),
      code: 1,
      out: /:2: prev is not the hash of the line before it/,
    },
  ])('verify-log: $name → exit $code', async ({ tamper, code, out }) => {
    const { readFileSync } = await import('node:fs');
    const source = join(dir, 'serve-decisions.log');
    const copy = join(dir, `verify-${code}.log`);
    // The serve test's log: its start line and one decision.
    writeFileSync(copy, tamper(readFileSync(source, 'utf8')));
    const result = await run(['verify-log', copy]);
    expect(result.code).toBe(code);
    expect(result.stdout).toMatch(out);
  });

  it('verify-log without a file is a usage error', async () => {
    const result = await run(['verify-log']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('verify-log: no file given');
  });
});
