/**
 * The four JSON Schema validators installed (ajv as callguard configures it, @exodus/schemasafe,
 * @cfworker/json-schema, @hyperjump/json-schema) on the draft 2020-12 JSON-Schema-Test-Suite, as shipped
 * and with a root `type` added, validator alone (no Check path): groups that load, fail-open
 * (expected invalid, validated as valid) and valid-denied counts. Then ns per validation of a
 * representative body schema and a small one, interleaved repeats. Not a test: `npx tsx bench/json-schema-validators.ts`
 * (`--suite` or `--speed` for one part). Results: bench/results/issue-12-json-schema.md.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator as CfValidator } from '@cfworker/json-schema';
import { validator as schemasafe } from '@exodus/schemasafe';
import * as hyperjump from '@hyperjump/json-schema/draft-2020-12';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formatsPlugin from 'ajv-formats';
import { createSchemaCompiler } from '../src/payload/json/compile-input.js';
import { createRe2Engine } from '../src/payload/regexp-engine.js';
import { conformanceDir } from '../test/helpers/conformance.js';
import { readDraft2020Groups, type SuiteGroup, withRootType } from '../test/helpers/json-schema-suite.js';
import { orderBody, orderSchema } from './fixtures.js';

const DRAFT_2020_12 = 'https://json-schema.org/draft/2020-12/schema';
// Formats asserted, as callguard, ajv-formats, schemasafe and cfworker do.
hyperjump.setShouldValidateFormat(true);

type Validate = (data: unknown) => boolean;
type Load = (schema: unknown, name: string) => Validate | Promise<Validate>;

const dir = mkdtempSync(join(tmpdir(), 'callguard-validators-'));
const callguard = createSchemaCompiler();
let serial = 0;

const validators: Record<string, Load> = {
  'ajv (callguard)': (schema) => {
    const file = join(dir, `s${serial++}.json`);
    writeFileSync(file, JSON.stringify(schema));
    const input = callguard.compile({ contentType: 'application/json', schema: file, sensitive: [], logFields: [] }, 'bench.yaml', '/input/schema');
    return (data) => input.validate(data).length === 0;
  },
  '@exodus/schemasafe': (schema) => {
    const v = schemasafe(schema as Parameters<typeof schemasafe>[0], {
      $schemaDefault: 'https://json-schema.org/draft/2020-12/schema',
      includeErrors: true,
      allErrors: true,
    });
    return (data) => v(data as Parameters<typeof v>[0]);
  },
  '@cfworker/json-schema': (schema) => {
    const v = new CfValidator(schema as boolean, '2020-12', false);
    return (data) => v.validate(data).valid;
  },
  '@hyperjump/json-schema': async (schema, name) => {
    const uri = `https://bench.invalid/${name}`;
    if (typeof schema === 'boolean') hyperjump.registerSchema(schema, uri, DRAFT_2020_12);
    else hyperjump.registerSchema({ $schema: DRAFT_2020_12, ...(schema as object) } as never, uri);
    const v = await hyperjump.validate(uri);
    return (data) => v(data as never).valid;
  },
};

interface Tally {
  groups: number;
  loaded: number;
  tests: number;
  failOpen: string[];
  validDenied: string[];
  threw: string[];
}

async function runSuite(groups: readonly SuiteGroup[], name: string, load: Load): Promise<Tally> {
  const tally: Tally = { groups: groups.length, loaded: 0, tests: 0, failOpen: [], validDenied: [], threw: [] };
  for (const [i, g] of groups.entries()) {
    let validate: Validate;
    try {
      validate = await load(typeof g.schema === 'boolean' ? g.schema : structuredClone(g.schema), `${i}-${g.id.replace(/\W+/g, '_')}`);
    } catch {
      continue;
    }
    tally.loaded++;
    for (const t of g.tests) {
      tally.tests++;
      const where = `${g.id}: ${t.description}`;
      let valid: boolean;
      try {
        valid = validate(t.data);
      } catch (err) {
        tally.threw.push(`${where} (${err instanceof Error ? err.message : String(err)})`);
        continue;
      }
      if (valid && !t.valid) tally.failOpen.push(where);
      if (!valid && t.valid) tally.validDenied.push(where);
    }
  }
  void name;
  return tally;
}

async function suite(): Promise<void> {
  const suiteDir = conformanceDir();
  if (suiteDir === undefined) throw new Error('conformance data not found (see test/helpers/conformance.ts)');
  const shipped = readDraft2020Groups(join(suiteDir, 'JSON-Schema-Test-Suite'));
  const typed = withRootType(shipped);
  console.log('| validator | variant | groups loaded | tests run | fail-open | valid denied | threw |');
  console.log('|---|---|---|---|---|---|---|');
  const details: string[] = [];
  for (const [name, load] of Object.entries(validators)) {
    for (const [variant, groups] of [
      ['as shipped', shipped],
      ['root type', typed],
    ] as const) {
      const t = await runSuite(groups, name, load);
      console.log(`| ${name} | ${variant} | ${t.loaded}/${t.groups} | ${t.tests} | ${t.failOpen.length} | ${t.validDenied.length} | ${t.threw.length} |`);
      for (const f of t.failOpen) details.push(`${name} ${variant} FAIL-OPEN ${f}`);
      for (const f of t.threw) details.push(`${name} ${variant} THREW ${f}`);
      if (process.argv.includes('--denied')) for (const f of t.validDenied) details.push(`${name} ${variant} DENIED ${f}`);
    }
  }
  console.log(`\n${details.join('\n')}`);
}

/** The schemas timed: the bench's JSON scenario (bench/fixtures.ts: ~1 KB, patterns, formats uuid/email/date-time) and a small one. */
const CASES = [
  { name: 'order (~1 KB)', schema: orderSchema('orders.create'), body: orderBody(), invalid: { ...orderBody(), lines: [] } },
  {
    name: 'charge (small)',
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['amount', 'currency'],
      properties: { amount: { type: 'integer', minimum: 1 }, currency: { type: 'string', pattern: '^[A-Z]{3}$' } },
    },
    body: { amount: 5, currency: 'EUR' },
    invalid: { amount: 0, currency: 'EUR' },
  },
];
const ROUNDS = 7;

/** callguard's ajv set-up before issue 12 (ajv-formats' checks alone), to show what the stricter formats cost. */
const beforeIssue12: Load = (schema) => {
  const ajv = new Ajv2020({ allErrors: true, strict: true, addUsedSchema: false, code: { regExp: createRe2Engine() } });
  formatsPlugin.default(ajv);
  const v = ajv.compile(schema as object);
  return (data) => v(data);
};

async function speed(): Promise<void> {
  const iterations = Number(process.env['ITERATIONS'] ?? 200_000);
  for (const c of CASES) {
    const loaded: [string, Validate][] = [];
    for (const [name, load] of Object.entries({ ...validators, 'ajv (before issue 12)': beforeIssue12 })) {
      const validate = await load(structuredClone(c.schema), `speed-${c.name.replace(/\W+/g, '_')}`);
      if (!validate(c.body) || validate(c.invalid)) throw new Error(`${name} judges the ${c.name} bodies wrongly`);
      loaded.push([name, validate]);
    }
    const results = new Map<string, number[]>(loaded.map(([n]) => [n, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, validate] of loaded) {
        const n = name.startsWith('@hyperjump') || name.startsWith('@cfworker') ? iterations / 20 : iterations;
        for (let i = 0; i < n / 10; i++) validate(c.body); // warm-up
        const start = process.hrtime.bigint();
        for (let i = 0; i < n; i++) validate(c.body);
        results.get(name)?.push(Number(process.hrtime.bigint() - start) / n);
      }
    }
    console.log(`\n${c.name}: ns per validation of a valid body, ${ROUNDS} interleaved rounds\n`);
    console.log('| validator | median | min | rounds |');
    console.log('|---|---|---|---|');
    for (const [name, ns] of results) {
      const sorted = [...ns].sort((x, y) => x - y);
      console.log(`| ${name} | ${Math.round(sorted[ROUNDS >> 1] ?? 0)} | ${Math.round(sorted[0] ?? 0)} | ${ns.map((x) => Math.round(x)).join(' / ')} |`);
    }
  }
}

try {
  if (!process.argv.includes('--speed')) await suite();
  if (!process.argv.includes('--suite')) await speed();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
