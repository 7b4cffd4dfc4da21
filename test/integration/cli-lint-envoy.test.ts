import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderCallguardConfig } from '../../scripts/lib/stack-config.js';
import { RULES } from '../../src/envoy-lint/rule-catalog.js';
import { runCli } from '../helpers/run-cli.js';
import { extAuthz, hcm, type Json, SHIPPED_LAYOUTS, shippedEnvoy } from '../helpers/shipped-envoy.js';

const dir = mkdtempSync(join(tmpdir(), 'callguard-lint-envoy-'));
const file = (name: string) => join(dir, name);

/** 1-based line of open.yaml holding `text`. */
const lineContaining = (text: string) =>
  readFileSync(file('open.yaml'), 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(text)) + 1;

function run(args: string[]): ReturnType<typeof runCli> {
  return runCli(['lint-envoy', ...args]);
}

beforeAll(() => {
  const local = (SHIPPED_LAYOUTS[0] as (typeof SHIPPED_LAYOUTS)[number]).layout;
  writeFileSync(file('clean.yaml'), shippedEnvoy());
  writeFileSync(file('callguard.yaml'), renderCallguardConfig(local));
  writeFileSync(
    file('open.yaml'),
    shippedEnvoy((c: Json) => {
      extAuthz(c).failure_mode_allow = true;
      delete extAuthz(c).status_on_error;
    }),
  );
  writeFileSync(
    file('warning.yaml'),
    shippedEnvoy((c: Json) => delete extAuthz(c).status_on_error),
  );
  writeFileSync(
    file('typo.yaml'),
    shippedEnvoy((c: Json) => (hcm(c).merge_slash = true)),
  );
});

describe('callguard lint-envoy: exit codes', () => {
  it.each([
    { name: 'clean, with callguard config', args: () => [file('clean.yaml'), '--callguard', file('callguard.yaml')], code: 0, stdout: /0 errors, 0 warnings/ },
    { name: 'a warning only', args: () => [file('warning.yaml')], code: 0, stdout: /warning ext-authz-status-on-error-denial at .*status_on_error/ },
    {
      name: 'an error finding',
      args: () => [file('open.yaml')],
      code: 1,
      stdout: /open\.yaml:\d+: error ext-authz-failure-mode-allow at .*failure_mode_allow: .*\n {2}fix: Set failure_mode_allow: false/,
    },
    { name: 'a typo', args: () => [file('typo.yaml')], code: 2, stderr: /typed_config\.merge_slash: unknown field "merge_slash"/ },
    { name: 'a missing file', args: () => [file('nope.yaml')], code: 2, stderr: /nope\.yaml: \/: cannot read: ENOENT/ },
    {
      name: 'an invalid callguard config',
      args: () => [file('clean.yaml'), '--callguard', file('clean.yaml')],
      code: 2,
      stderr: /unknown key "static_resources"/,
    },
    { name: 'no file', args: () => [], code: 2, stderr: /expected one Envoy config file/ },
    { name: 'an unknown format', args: () => [file('clean.yaml'), '--format', 'xml'], code: 2, stderr: /unknown --format xml/ },
  ])('$name: exit $code', async ({ args, code, stdout, stderr }) => {
    const result = await run(args());
    expect(result.code).toBe(code);
    if (stdout) expect(result.stdout).toMatch(stdout);
    if (stderr) expect(result.stderr).toMatch(stderr);
  });
});

describe('callguard lint-envoy: formats', () => {
  it('--format json: the file and every finding', async () => {
    const result = await run([file('open.yaml'), '--format', 'json']);
    expect(result.code).toBe(1);
    const out = JSON.parse(result.stdout);
    expect(out.file).toBe(file('open.yaml'));
    expect(out.findings.map((f: { rule: string }) => f.rule)).toEqual(['ext-authz-failure-mode-allow', 'ext-authz-status-on-error-denial']);
    expect(out.findings[0]).toMatchObject({
      severity: 'error',
      path: expect.stringMatching(/^\$\.static_resources\..*\.failure_mode_allow$/),
      line: lineContaining('failure_mode_allow'),
    });
  });

  it('--format sarif: a SARIF 2.1.0 log with every rule and one result per finding', async () => {
    const result = await run([file('open.yaml'), '--format', 'sarif']);
    expect(result.code).toBe(1);
    const log = JSON.parse(result.stdout);
    expect(log.version).toBe('2.1.0');
    const [run0] = log.runs;
    expect(run0.tool.driver.rules.map((r: { id: string }) => r.id)).toEqual(Object.keys(RULES));
    expect(run0.results).toHaveLength(2);
    const [first] = run0.results;
    expect(first).toMatchObject({ ruleId: 'ext-authz-failure-mode-allow', level: 'error' });
    expect(run0.tool.driver.rules[first.ruleIndex].id).toBe(first.ruleId);
    expect(first.locations[0].physicalLocation).toEqual({
      artifactLocation: { uri: file('open.yaml') },
      region: { startLine: lineContaining('failure_mode_allow') },
    });
    expect(first.locations[0].logicalLocations[0].fullyQualifiedName).toMatch(/failure_mode_allow$/);
  });
});
