import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from '../../scripts/lib/stack-config.js';
import { readmeBlocks } from '../helpers/readme-blocks.js';
import { describeWithEnvoy } from '../helpers/stack-envoy.js';
import { startTestStack, type TestStack } from '../helpers/stack-harness.js';
import { decisionsFor, send } from '../helpers/stack-http.js';

type Json = Record<string, unknown>;

/** README "Adding a function", read as an operator would: its schema, its config entry, its call. */
function readmeSteps(): { schema: string; entry: Json; body: string; groups: string; path: string } {
  const blocks = readmeBlocks('Adding a function');
  const json = blocks.find((b) => b.lang === 'json');
  const yaml = blocks.find((b) => b.lang === 'yaml');
  const call = blocks.filter((b) => b.lang === 'sh').find((b) => b.text.includes('curl'));
  if (json === undefined || yaml === undefined || call === undefined) throw new Error('README "Adding a function" lost its json, yaml or curl block');
  const [entry] = parse(yaml.text) as Json[];
  const body = /-d '([^']+)'/.exec(call.text)?.[1];
  const groups = /--groups (\S+)\)/.exec(call.text)?.[1];
  const url = /https:\/\/localhost:8443(\/\S*)/.exec(call.text)?.[1];
  if (entry === undefined || body === undefined || groups === undefined || url === undefined)
    throw new Error('README "Adding a function": cannot read the entry or the call');
  return { schema: json.text, entry, body, groups, path: url };
}

/**
 * Issue 11, item 1: callguard's config is the only list of functions. The README's new function, added to
 * the stack's config (its schema in the test's directory), answers 200 through real Envoy with no Envoy
 * change; the same stack config without it answers 404 from callguard, logged.
 */
describeWithEnvoy('e2e: adding a function is a schema and a config entry (README "Adding a function")', () => {
  const steps = readmeSteps();
  let withIt: TestStack;
  let without: TestStack;

  beforeAll(async () => {
    withIt = await startTestStack({
      customizeCallguard: (config, dir) => {
        const schemaFile = path.join(dir, 'invoices.create.json');
        writeFileSync(schemaFile, steps.schema);
        const entry = structuredClone(steps.entry);
        (entry['input'] as Json)['schema'] = schemaFile;
        (config['functions'] as Json[]).push(entry);
      },
    });
    without = await startTestStack();
  }, 120_000);
  afterAll(async () => {
    await withIt?.stop();
    await without?.stop();
  });

  it('the config with it passes `callguard check`', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'check', '--config', withIt.callguardConfig], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it("the README's call → 200 at the function, the IBAN masked in the decision line", async () => {
    const token = await withIt.issuer.mint({ subject: 'carol', groups: [steps.groups] });
    const res = await send(withIt, { method: 'POST', path: steps.path, token, body: steps.body });
    expect(res.status).toBe(200);
    expect(res.json<{ identity: Record<string, string> }>().identity).toMatchObject({
      'x-callguard-function': 'invoices.create',
      'x-callguard-subject': 'carol',
    });
    const [line] = await decisionsFor(withIt, res.requestId);
    expect(line).toMatchObject({ function: 'invoices.create', outcome: 'allow' });
    expect(JSON.stringify(line)).not.toContain('DE89370400440532013000');
  });

  it('its schema and rules apply: a bad IBAN → 400, another group → 403', async () => {
    const badIban = await send(withIt, {
      method: 'POST',
      path: steps.path,
      token: await withIt.issuer.mint({ subject: 'carol', groups: [steps.groups] }),
      body: steps.body.replace('DE89', 'de89'),
    });
    expect([badIban.status, badIban.json()['code']]).toEqual([400, 'ERR_BODY_SCHEMA']);
    const reader = await send(withIt, {
      method: 'POST',
      path: steps.path,
      token: await withIt.issuer.mint({ subject: 'bob', groups: ['orders-readers'] }),
      body: steps.body,
    });
    expect([reader.status, reader.json()['code']]).toEqual([403, 'ERR_NOT_PERMITTED']);
  });

  it('without it, the same call → 404 ERR_FUNCTION_UNKNOWN from callguard (logged), never the function', async () => {
    const before = (await without.fn.settled()).length;
    const res = await send(without, {
      method: 'POST',
      path: steps.path,
      token: await without.issuer.mint({ subject: 'carol', groups: [steps.groups] }),
      body: steps.body,
    });
    expect([res.status, res.json()['code']]).toEqual([404, 'ERR_FUNCTION_UNKNOWN']);
    expect(await decisionsFor(without, res.requestId)).toMatchObject([{ function: null, outcome: 'deny', code: 'ERR_FUNCTION_UNKNOWN' }]);
    expect((await without.fn.settled()).length).toBe(before);
  });

  it('added to the running config and SIGHUP: callguard reloads it, and the same call → 200 without a restart', async () => {
    const config = parse(readFileSync(without.callguardConfig, 'utf8')) as Json;
    const schemaFile = path.join(without.dir, 'invoices.create.json');
    writeFileSync(schemaFile, steps.schema);
    const entry = structuredClone(steps.entry);
    (entry['input'] as Json)['schema'] = schemaFile;
    (config['functions'] as Json[]).push(entry);
    writeFileSync(without.callguardConfig, stringify(config));
    const reloaded = new Promise<string>((resolve) => without.callguard.onLine((line) => line.includes('"reload"') && resolve(line)));
    without.callguard.child.kill('SIGHUP');
    expect(JSON.parse(await reloaded)).toMatchObject({ reload: 'ok', functions: 4 });
    const res = await send(without, {
      method: 'POST',
      path: steps.path,
      token: await without.issuer.mint({ subject: 'carol', groups: [steps.groups] }),
      body: steps.body,
    });
    expect(res.status).toBe(200);
    expect(await decisionsFor(without, res.requestId)).toMatchObject([{ function: 'invoices.create', outcome: 'allow' }]);
  });
});
