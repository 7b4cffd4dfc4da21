import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdtempSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { CLI, runCli } from '../helpers/run-cli.js';

const ROOT = join(import.meta.dirname, '../..');
const EXAMPLE = join(ROOT, 'examples/callguard.yaml');
const dir = mkdtempSync(join(tmpdir(), 'callguard-cli-test-'));

function run(args: string[]): ReturnType<typeof runCli> {
  return runCli(['test', ...args], { cwd: ROOT });
}

/** The example config, to be written elsewhere: its schemas where they are. */
function exampleConfig(): string {
  return readFileSync(EXAMPLE, 'utf8').replace(/schemas\//g, `${join(ROOT, 'examples/schemas')}/`);
}

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const WRITER = 'caller: { jwt: { iss: https://issuer.example.test, sub: alice, groups: [orders-writers] } }';
const ORDER = 'request: { method: POST, path: /orders, body: { sku: ABC-1, quantity: 2, card: { number: "4111111111111111", expiry: 12/29 } } }';

// Each test starts the CLI (tsx): seconds each on a loaded machine.
const SLOW = { timeout: 120_000 };

describe('callguard test: the shipped cases', SLOW, () => {
  it('examples/callguard.test.yaml passes against examples/callguard.yaml (found by name, next to it)', async () => {
    const result = await run(['--config', EXAMPLE]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const cases = (parse(readFileSync(join(ROOT, 'examples/callguard.test.yaml'), 'utf8')) as { cases: { name: string }[] }).cases;
    for (const c of cases) expect(result.stdout).toContain(`  ok    ${c.name}\n`);
    expect(result.stdout).toMatch(new RegExp(`\\n${cases.length} passed, 0 failed\\n$`));
  });

  it('cover each function of the example and the important denials', () => {
    const text = readFileSync(join(ROOT, 'examples/callguard.test.yaml'), 'utf8');
    for (const path of ['/orders', '/orders/42', '/billing/charge']) expect(text).toContain(`path: ${path}`);
    for (const code of ['ERR_CREDENTIAL_MISSING', 'ERR_NOT_PERMITTED', 'ERR_BODY_SCHEMA', 'ERR_FUNCTION_UNKNOWN', 'ERR_TLS_REQUIRED', 'ERR_MTLS_REQUIRED']) {
      expect(text).toContain(`code: ${code}`);
    }
  });
});

describe('callguard test: outcomes and exit codes', SLOW, () => {
  it('a failing case: exit 1, FAIL with expected vs got per field, the others still run', async () => {
    const file = write(
      'failing.test.yaml',
      `cases:
  - { name: passes, ${ORDER}, ${WRITER}, expect: { outcome: allow } }
  - { name: wrong code and header, ${ORDER}, ${WRITER}, expect: { outcome: deny, status: 403, code: ERR_NOT_PERMITTED } }
  - { name: wrong subject, ${ORDER}, ${WRITER}, expect: { outcome: allow, upstreamHeaders: { x-callguard-subject: bob } } }
`,
    );
    const result = await run([file, '--config', EXAMPLE]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(
      `${file}
  ok    passes
  FAIL  wrong code and header
          outcome: expected deny, got allow
          status: expected 403, got 200
          code: expected ERR_NOT_PERMITTED, got (none)
  FAIL  wrong subject
          upstreamHeaders.x-callguard-subject: expected bob, got alice
1 passed, 2 failed
`,
    );
  });

  it('several files: each reported, one summary', async () => {
    const a = write('a.test.yaml', `cases: [{ name: a, ${ORDER}, ${WRITER}, expect: { outcome: allow } }]`);
    const b = write('b.test.yaml', `cases: [{ name: b, ${ORDER}, expect: { outcome: deny, code: ERR_CREDENTIAL_MISSING } }]`);
    const result = await run([a, b, '--config', EXAMPLE]);
    expect([result.code, result.stdout]).toEqual([0, `${a}\n  ok    a\n${b}\n  ok    b\n2 passed, 0 failed\n`]);
  });

  it('invalid cases files: exit 2, every problem of every file at once, nothing run', async () => {
    const bad = write(
      'bad.test.yaml',
      `cases:
  - { name: a, request: { method: POST, path: /orders, body: {}, bodyFile: x.json }, expect: { outcome: allow } }
  - { name: b, ${ORDER}, caller: { jwt: { iss: https://elsewhere.test, sub: a } }, expect: { outcome: allow, code: ERR_NOT_PERMITTED } }
`,
    );
    const result = await run([bad, join(dir, 'absent.test.yaml'), '--config', EXAMPLE]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `invalid test cases (4 problems):
  ${bad}: /cases/0/request: give body or bodyFile, not both
  ${bad}: /cases/1/caller/jwt/iss: no configured issuer has issuer "https://elsewhere.test" (configured: https://issuer.example.test)
  ${bad}: /cases/1/expect/code: an allowed call has no reason code
  ${join(dir, 'absent.test.yaml')}: /: cannot read: ENOENT
`,
    );
  });

  it('an invalid config: exit 2, its problems listed', async () => {
    const config = write('broken.yaml', 'functions: [{ name: f }]\n');
    const result = await run(['--config', config]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^invalid configuration \(\d+ problems?\):\n {2}.*broken\.yaml: \/functions\/0: must have required property 'allow'/);
  });

  it('no cases file next to the config: exit 2, naming the file it looked for', async () => {
    const config = write('lonely.yaml', exampleConfig());
    const result = await run(['--config', config]);
    expect([result.code, result.stderr]).toEqual([2, `invalid test cases (1 problem):\n  ${join(dir, 'lonely.test.yaml')}: /: cannot read: ENOENT\n`]);
  });

  it.each([
    { name: 'no --config', args: [], code: 2, stderr: /^callguard test: missing --config FILE\nusage: callguard test/ },
    { name: 'an unknown option', args: ['--config', EXAMPLE, '--fast'], code: 2, stderr: /^callguard test: Unknown option '--fast'.*\nusage: callguard test/s },
    { name: '--help', args: ['--help'], code: 0, stderr: /^$/ },
  ])('usage: $name → exit $code', async ({ args, code, stderr }) => {
    const result = await run(args);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(stderr);
  });
});

/** README "Adding a function", step 5 and the case format, run as written in a copy of examples/. */
describe('callguard test: the README', SLOW, () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = (heading: string): string => {
    const start = readme.indexOf(heading);
    return readme.slice(start, readme.indexOf('\n## ', start + 1));
  };
  // A block in a numbered list is indented by 3 (not part of its text).
  const blocks = (text: string, indent = '') =>
    [...text.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map(([, lang, body]) => ({ lang, text: (body ?? '').replaceAll(`\n${indent}`, '\n').replace(indent, '') }));

  function copyOfExamples(): string {
    const work = mkdtempSync(join(tmpdir(), 'callguard-readme-'));
    cpSync(join(ROOT, 'examples'), join(work, 'examples'), { recursive: true });
    symlinkSync(join(ROOT, 'src'), join(work, 'src'));
    symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'));
    cpSync(join(ROOT, 'package.json'), join(work, 'package.json'));
    return work;
  }

  /** A README section's schema (its json block, saved as `schemaFile`) and function entry added to a copy of examples/, then the sh block naming `casesFile` run. */
  async function runReadmeSteps(heading: string, schemaFile: string, casesFile: string): Promise<{ step: string; stdout: string }> {
    const steps = blocks(section(heading), '   ');
    const schema = steps.find((b) => b.lang === 'json');
    const entry = steps.find((b) => b.lang === 'yaml');
    const step = steps.find((b) => b.lang === 'sh' && b.text.includes(casesFile));
    if (schema === undefined || entry === undefined || step === undefined) throw new Error(`README "${heading.trim()}" lost a block`);
    const work = copyOfExamples();
    writeFileSync(join(work, 'examples/schemas', schemaFile), schema.text);
    const config = parse(readFileSync(join(work, 'examples/callguard.yaml'), 'utf8')) as { functions: unknown[] };
    config.functions.push(...(parse(entry.text) as unknown[]));
    writeFileSync(join(work, 'examples/callguard.yaml'), stringify(config));
    const shell = spawn('sh', ['-e'], { cwd: work, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    shell.stdout.on('data', (d: Buffer) => (stdout += d));
    shell.stderr.on('data', (d: Buffer) => (stderr += d));
    shell.stdin.end(step.text);
    const [code] = await once(shell, 'exit');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const promised = /# … (\d+ passed, 0 failed)/.exec(step.text)?.[1];
    expect(stdout).toContain(`\n${promised}\n`);
    return { step: step.text, stdout };
  }

  it('"Adding a function": the schema, the entry, then step 5 verbatim → every case passes, the new ones included', async () => {
    const { stdout } = await runReadmeSteps('## Adding a function\n', 'invoices.create.json', 'callguard.test.yaml');
    for (const name of ['a billing writer creates an invoice', 'an orders writer may not create an invoice', 'a lower-case IBAN is refused, the field named']) {
      expect(stdout).toContain(`  ok    ${name}\n`);
    }
  });

  it('"MCP tool calls": the tool schema, the MCP entry, then step 5 verbatim → every case passes', async () => {
    const { step, stdout } = await runReadmeSteps('## MCP tool calls\n', 'get_weather.json', 'weather-mcp.test.yaml');
    const names = [...step.matchAll(/^ {2}- name: (.+)$/gm)].map(([, name]) => name);
    expect(names.length).toBeGreaterThan(3);
    for (const name of names) expect(stdout).toContain(`  ok    ${name}\n`);
  });

  it('"Testing rules and schemas": the format example passes against the bundled example', async () => {
    const example = blocks(section('### Testing rules and schemas')).find((b) => b.lang === 'yaml');
    if (example === undefined) throw new Error('README "Testing rules and schemas" lost its yaml block');
    const result = await run([write('readme-format.test.yaml', example.text), '--config', EXAMPLE]);
    expect(result.stderr).toBe('');
    expect([result.code, result.stdout]).toEqual([0, expect.stringMatching(/ok {4}a CI job's API key gets an order\n1 passed, 0 failed\n$/)]);
  });
});

describe('callguard test --watch', SLOW, () => {
  it("runs again when the cases file, then the config, changes; SIGINT ends it with the last run's status", async () => {
    const config = write('watched.yaml', exampleConfig());
    const cases = write('watched.test.yaml', `cases: [{ name: writer, ${ORDER}, ${WRITER}, expect: { outcome: allow } }]`);
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'test', '--config', config, '--watch'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const output = collect(child);
    await output.until(/1 passed, 0 failed\nwatching 4 files/);
    // Saved by renaming over it, as editors do.
    writeFileSync(`${cases}.tmp`, `cases: [{ name: writer, ${ORDER}, ${WRITER}, expect: { outcome: deny } }]`);
    renameSync(`${cases}.tmp`, cases);
    await output.until(/changed: running again\n[\s\S]*FAIL {2}writer\n[\s\S]*0 passed, 1 failed\nwatching/);
    // The config changes: writers lose orders.create, so the case (expecting deny) passes.
    writeFileSync(config, readFileSync(config, 'utf8').replace('groups: [orders-writers]', 'groups: [nobody]'));
    await output.until(/changed: running again\n(?:(?!changed)[\s\S])*1 passed, 0 failed\nwatching/);
    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });
});

function collect(child: ChildProcess) {
  let text = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout?.on('data', (d: Buffer) => {
    text += d;
    for (const w of [...waiters]) {
      if (w.pattern.test(text)) {
        waiters.splice(waiters.indexOf(w), 1);
        text = '';
        w.resolve();
      }
    }
  });
  child.stderr?.on('data', (d: Buffer) => {
    text += d;
  });
  return {
    until: (pattern: RegExp): Promise<void> =>
      pattern.test(text)
        ? Promise.resolve().then(() => {
            text = '';
          })
        : new Promise<void>((resolve) => waiters.push({ pattern, resolve })),
  };
}
