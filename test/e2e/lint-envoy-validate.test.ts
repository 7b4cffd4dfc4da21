import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { localLayout, type StackLayout } from '../../scripts/lib/stack-config.js';
import { validateEnvoyConfig } from '../../scripts/lib/stack-processes.js';
import { LINT_CASES } from '../helpers/lint-envoy-cases.js';
import { shippedEnvoy } from '../helpers/shipped-envoy.js';
import { describeWithEnvoy } from '../helpers/stack-envoy.js';
import { createPki } from '../helpers/stack-harness.js';

let dir: string;
let layout: StackLayout;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'callguard-lint-validate-'));
  createPki(path.join(dir, 'pki'));
  layout = localLayout({ pkiDir: path.join(dir, 'pki'), decisionLog: 'stdout', ports: { envoy: 0, envoyAdmin: 0, callguard: 0, function: 0 } });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Why the linter exists: Envoy 1.40's own validation accepts almost every hole it finds.
describeWithEnvoy('envoy --mode validate on each config lint-envoy flags', () => {
  it.each(LINT_CASES)('$rule: $name', async ({ name, breakIt, envoyRefuses }) => {
    const file = path.join(dir, `${name.replace(/\W+/g, '-')}.yaml`);
    await writeFile(file, shippedEnvoy(breakIt, layout));
    const result = validateEnvoyConfig(file);
    if (envoyRefuses === undefined) {
      expect(result.output).toContain('OK');
      expect(result.ok).toBe(true);
    } else {
      expect(result.ok).toBe(false);
      expect(result.output).toMatch(envoyRefuses);
    }
  });
});
