import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ensureDevIssuer } from '../../scripts/lib/dev-issuer.js';
import { renderTemplate } from '../../scripts/lib/render-template.js';
import {
  composeLayout,
  DEFAULT_PORTS,
  ENVOY_SPIFFE_ID,
  localLayout,
  REPO_ROOT,
  renderCallguardConfig,
  renderEnvoyConfig,
  type StackLayout,
} from '../../scripts/lib/stack-config.js';
import { validateEnvoyConfig } from '../../scripts/lib/stack-processes.js';
import { loadConfig } from '../../src/config/load-config.js';
import { describeWithEnvoy } from '../helpers/stack-envoy.js';
import { createPki } from '../helpers/stack-harness.js';

let dir: string;
let pkiDir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'callguard-validate-'));
  pkiDir = path.join(dir, 'pki');
  createPki(pkiDir);
  await ensureDevIssuer(pkiDir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every layout the repo renders: the local stack, the e2e tests (port 0) and compose. */
const layouts: Array<{ name: string; layout: () => StackLayout }> = [
  { name: 'local stack', layout: () => localLayout({ pkiDir, decisionLog: path.join(dir, 'd.log'), ports: DEFAULT_PORTS }) },
  {
    name: 'e2e tests',
    layout: () => localLayout({ pkiDir, decisionLog: path.join(dir, 'd.log'), ports: { envoy: 0, envoyAdmin: 0, callguard: 0, function: 0 } }),
  },
  // Same file as compose renders, with the PKI path pointed at real files so Envoy can load them.
  { name: 'compose', layout: () => composeLayout({ pkiDir }) },
];

describe('envoy/ holds only templates the renderer knows', () => {
  it('has exactly envoy.yaml', () => {
    expect(readdirSync(path.join(REPO_ROOT, 'envoy')).filter((f) => f.endsWith('.yaml') || f.endsWith('.json'))).toEqual(['envoy.yaml']);
  });

  it.each([
    { name: 'missing value', template: 'a: {{A}}\nb: {{B}}', values: { A: 1 }, error: /no value for placeholder \{\{B\}\}/ },
    { name: 'unused value', template: 'a: {{A}}', values: { A: 1, TYPO: 2 }, error: /TYPO is not used/ },
    { name: 'odd leftover', template: 'a: {{ lower }}', values: {}, error: /unreplaced placeholders/ },
    { name: 'unsafe value', template: 'a: "{{A}}"', values: { A: 'x" y' }, error: /contains whitespace/ },
  ])('renderTemplate fails loudly on $name', ({ template, values, error }) => {
    expect(() => renderTemplate(template, values, 'test.yaml')).toThrow(error);
  });
});

describeWithEnvoy('envoy --mode validate on every rendered Envoy configuration', () => {
  it.each(layouts)('$name', async ({ name, layout }) => {
    const file = path.join(dir, `envoy-${name.replace(/\W+/g, '-')}.yaml`);
    await writeFile(file, renderEnvoyConfig(layout()));
    const result = validateEnvoyConfig(file);
    expect(result.output).toContain('OK');
    expect(result.ok).toBe(true);
  });
});

describe("Envoy's admin API (unauthenticated) listens on loopback only", () => {
  it.each(layouts)('$name', ({ layout }) => {
    const rendered = parse(renderEnvoyConfig(layout())) as { admin: { address: { socket_address: { address: string } } } };
    expect(rendered.admin.address.socket_address.address).toBe('127.0.0.1');
  });

  it.each(['0.0.0.0', '::', '10.0.0.5', 'envoy'])('the renderer refuses admin on %s', (adminHost) => {
    const layout = composeLayout({ pkiDir });
    expect(() => renderEnvoyConfig({ ...layout, envoy: { ...layout.envoy, adminHost } })).toThrow(/admin interface must bind to loopback/);
  });
});

describe('the callguard stack configuration', () => {
  it.each(layouts)('$name: derived from examples/callguard.yaml and accepted by callguard', async ({ name, layout }) => {
    const file = path.join(dir, `callguard-${name.replace(/\W+/g, '-')}.yaml`);
    const rendered = renderCallguardConfig({ ...layout(), examplesDir: path.join(REPO_ROOT, 'examples') });
    await writeFile(file, rendered);
    const config = loadConfig(file);
    const example = loadConfig(path.join(REPO_ROOT, 'examples/callguard.yaml'));
    expect(config.functions.map((f) => f.name)).toEqual(example.functions.map((f) => f.name));
    expect(config.server.tls?.clientCa).toBe(path.join(pkiDir, 'ca.crt'));
    // Only Envoy's client certificate may ask for decisions (not a workload's from the same CA).
    expect(config.server.tls?.clientSans).toEqual([ENVOY_SPIFFE_ID]);
    // Probes and metrics: loopback, inside the container for compose (its healthcheck runs there).
    expect(config.admin.listen).toMatch(/^127\.0\.0\.1:\d+$/);
  });
});
