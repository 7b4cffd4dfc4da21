/**
 * draft-07 schemas against a draft-07 reference: the JSON-Schema-Test-Suite's draft 2020-12 groups
 * relabelled `"$schema": "http://json-schema.org/draft-07/schema#"` (as shipped and with a root type, as
 * json-schema-suite.test.ts runs them, and those using `$defs` once more in draft-07's spelling,
 * `definitions`), every one callguard loads compiled by callguard (fromDraft07,
 * then the 2020-12 path) and by @hyperjump/json-schema's own draft-07 dialect (formats asserted, as
 * callguard does), and every test datum judged by both. The suite's expectations are for 2020-12, so
 * the reference here is hyperjump, not the suite.
 * - Nothing hyperjump holds invalid as draft-07 is allowed by callguard (fail-open: zero), but where
 *   hyperjump is wrong by the suite and the spec (REFERENCE_ERRORS).
 * - Every datum callguard denies and hyperjump allows is listed below with its reason (STRICTER).
 * - Every group hyperjump cannot compile is listed with its reason (UNJUDGED), so the corpus is known.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@hyperjump/json-schema/formats';
// The 2020-12 dialect too, for the two groups whose `$ref` is the 2020-12 meta-schema (ajv holds it as well).
import '@hyperjump/json-schema/draft-2020-12';
import { registerSchema, setShouldValidateFormat, unregisterSchema, validate } from '@hyperjump/json-schema/draft-07';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { type CompiledInput, createSchemaCompiler } from '../../src/payload/json/compile-input.js';
import { conformanceDir, testMissingConformanceData } from '../helpers/conformance.js';
import { readDraft2020Groups, type SuiteGroup, withRootType } from '../helpers/json-schema-suite.js';

const D7 = 'http://json-schema.org/draft-07/schema#';

/** A documented outcome: what it covers (`id: description`, or a group id) and why; `count` in this run. */
interface Listed {
  readonly why: string;
  readonly match: RegExp;
  readonly count: number;
}

interface Outcome {
  /** Groups callguard loads as draft-07, and their test data. */
  loaded: number;
  data: number;
  /** Groups refused at load because of a draft-07 rule, and for any other reason. */
  refusedDraft07: number;
  refusedOther: number;
  readonly failOpen: string[];
  /** `id: description` of data hyperjump holds invalid, callguard allows and the suite holds valid. */
  readonly referenceErrors: string[];
  /** `id: description` of data callguard denies and hyperjump allows. */
  readonly stricter: string[];
  /** Group id → why hyperjump could not compile it. */
  readonly unjudged: Map<string, string>;
}

/** Of the 449 groups as shipped, 724 root-type variants and 234 `definitions` variants, relabelled draft-07 (2 boolean schemas left out). */
const CORPUS = { loaded: 397, data: 1459, refusedDraft07: 480, refusedOther: 452 };

const AJV_FORMATS = 'ajv-formats; json-schema-suite.test.ts lists it too';

/** Data callguard denies and hyperjump's draft-07 allows, with the reason. */
const STRICTER: readonly Listed[] = [
  {
    why: 'uuid and duration are 2019-09 formats, unknown to draft-07 (hyperjump ignores them); callguard asserts them as in 2020-12 schemas',
    match: /^(format\.json #1[78] \+type:string|optional\/format\/(uuid|duration)\.json #0 \+type:string): /,
    count: 40,
  },
  {
    why: 'hostname: callguard takes ASCII LDH labels only and refuses IDNA A-labels (xn--), whose IDNA 2008 rules it does not check',
    match: /^optional\/format\/hostname\.json #1 \+type:string: /,
    count: 15,
  },
  { why: `email: no quoted local part, no address literal (${AJV_FORMATS})`, match: /^optional\/format\/email\.json #0 \+type:string: /, count: 5 },
  { why: `date-time: a fraction of fifteen nines (${AJV_FORMATS})`, match: /^optional\/format\/date-time\.json #0 \+type:string: .*fifteen nines/, count: 1 },
  { why: `uri-template: dotted variable names, apostrophes (${AJV_FORMATS})`, match: /^optional\/format\/uri-template\.json #0 \+type:string: /, count: 2 },
  {
    why: "ajv's multipleOf finds 1e308 no multiple of 0.5 (no exact double); on the Check path the strict parser refuses such a number first",
    match: /^optional\/float-overflow\.json #0: /,
    count: 1,
  },
];

/**
 * Data hyperjump holds invalid and callguard allows, where the reference is wrong: the suite holds it
 * valid, for a reason draft-07 shares. A datum here that the suite holds invalid is a fail-open all the same.
 */
const REFERENCE_ERRORS: readonly Listed[] = [
  {
    why: 'hyperjump 1.18 (@hyperjump/json-schema-formats isTime) refuses every leap second; RFC 3339 §5.6-5.7 allow 23:59:60 UTC, and the draft7 suite holds these valid',
    match: /^optional\/format\/time\.json #0 \+type:string: .*leap second/,
    count: 6,
  },
  {
    why:
      'hyperjump takes an $id inside enum/const for an identifier (a limitation its Bowtie harness skips: it cannot tell which locations are schemas), ' +
      'so its $ref lands on the const; the suite holds these valid',
    match: /^optional\/id\.json #0 (\+type:\w+ )?\+definitions: /,
    count: 4,
  },
];

/** Loaded groups hyperjump cannot compile as draft-07, with the reason. */
const UNJUDGED: readonly Listed[] = [
  {
    why: 'hyperjump ignores every keyword beside a draft-07 $ref, $defs and examples too, so a pointer into them does not resolve (callguard and ajv resolve it: JSON-Schema-Test-Suite#198)',
    match: /^(ref\.json #(4|9|10)|optional\/refOfUnknownKeyword\.json #3)( \+definitions)?$/,
    count: 7,
  },
];

const CONFORMANCE = conformanceDir();
if (CONFORMANCE === undefined) {
  testMissingConformanceData('draft-07 oracle', 'JSON-Schema-Test-Suite (JSON-Schema-Test-Suite/tests/draft2020-12)');
} else {
  const shipped = readDraft2020Groups(join(CONFORMANCE, 'JSON-Schema-Test-Suite'));
  let outcome: Outcome;
  beforeAll(async () => {
    const groups = [...shipped, ...withRootType(shipped)];
    outcome = await judge([...groups, ...withDefinitions(groups)]);
  }, 180_000);

  describe('draft-07 relabelled suite: callguard against @hyperjump/json-schema draft-07', () => {
    it('allows nothing hyperjump holds invalid (fail-open: zero), but for listed errors of the reference', () => {
      expect(outcome.failOpen).toEqual([]);
      const counts = REFERENCE_ERRORS.map((l) => ({ why: l.why, count: outcome.referenceErrors.filter((w) => l.match.test(w)).length }));
      expect(counts).toEqual(REFERENCE_ERRORS.map(({ why, count }) => ({ why, count })));
    });

    it('judges a known corpus: groups loaded and refused, data judged', () => {
      const { loaded, data, refusedDraft07, refusedOther } = outcome;
      expect({ loaded, data, refusedDraft07, refusedOther }).toEqual(CORPUS);
    });

    it('denies what hyperjump allows only where listed', () => {
      for (const where of outcome.stricter)
        expect
          .soft(
            STRICTER.find((l) => l.match.test(where)),
            `not listed: ${where}`,
          )
          .toBeDefined();
      const counts = STRICTER.map((l) => ({ why: l.why, count: outcome.stricter.filter((w) => l.match.test(w)).length }));
      expect(counts).toEqual(STRICTER.map(({ why, count }) => ({ why, count })));
    });

    it('compiles with hyperjump every loaded group but the listed ones', () => {
      for (const [id, error] of outcome.unjudged)
        expect
          .soft(
            UNJUDGED.find((l) => l.match.test(id)),
            `not listed: ${id}: ${error}`,
          )
          .toBeDefined();
      const counts = UNJUDGED.map((l) => ({ why: l.why, count: [...outcome.unjudged.keys()].filter((id) => l.match.test(id)).length }));
      expect(counts).toEqual(UNJUDGED.map(({ why, count }) => ({ why, count })));
    });
  });
}

/**
 * The groups whose schema uses `$defs`, again with draft-07's `definitions` instead (every `"$defs"`
 * of the schema's text, so `$ref`s to `#/$defs/…` follow; both judges read the same schema).
 */
function withDefinitions(groups: readonly SuiteGroup[]): SuiteGroup[] {
  return groups.flatMap((g) => {
    const text = JSON.stringify(g.schema);
    if (!text.includes('$defs')) return [];
    return [{ ...g, id: `${g.id} +definitions`, schema: JSON.parse(text.replaceAll('"$defs"', '"definitions"').replaceAll('#/$defs/', '#/definitions/')) }];
  });
}

/** Loads each relabelled group with callguard; judges each datum of the loaded ones with both. */
async function judge(groups: readonly SuiteGroup[]): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'callguard-draft07-oracle-'));
  const compiler = createSchemaCompiler();
  setShouldValidateFormat(true);
  // @hyperjump/json-schema-formats prints every IDNA error it catches (uts46.js isIdn); its verdict is kept.
  const print = console.log;
  console.log = () => {};
  const outcome: Outcome = { loaded: 0, data: 0, refusedDraft07: 0, refusedOther: 0, failOpen: [], referenceErrors: [], stricter: [], unjudged: new Map() };
  try {
    for (const [i, group] of groups.entries()) {
      if (typeof group.schema !== 'object' || group.schema === null) continue;
      const schema = { ...group.schema, $schema: D7 };
      const file = join(dir, `g${i}.json`);
      writeFileSync(file, JSON.stringify(schema));
      let compiled: CompiledInput;
      try {
        compiled = compiler.compile(
          { contentType: 'application/json', schema: file, sensitive: [], logFields: [] },
          '/oracle.yaml',
          '/functions/0/input/schema',
        );
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        if (err.problems.some((p) => /draft-07|2020-12 applies it/.test(p.message))) outcome.refusedDraft07++;
        else outcome.refusedOther++;
        continue;
      }
      outcome.loaded++;
      const uri = `https://oracle.invalid/g${i}.json`;
      let reference: Awaited<ReturnType<typeof validate>>;
      try {
        registerSchema(structuredClone(schema), uri);
        reference = await validate(uri);
      } catch (err) {
        outcome.unjudged.set(group.id, err instanceof Error ? err.message : String(err));
        continue;
      } finally {
        unregisterSchema(uri);
      }
      for (const t of group.tests) {
        outcome.data++;
        const where = `${group.id}: ${t.description}`;
        // Parsed JSON (the suite's files), so a Json value.
        const hyperjumpValid = reference(t.data as Parameters<typeof reference>[0]).valid;
        const callguardValid = compiled.validate(t.data).length === 0;
        if (callguardValid && !hyperjumpValid)
          (t.valid && REFERENCE_ERRORS.some((l) => l.match.test(where)) ? outcome.referenceErrors : outcome.failOpen).push(where);
        else if (!callguardValid && hyperjumpValid) outcome.stricter.push(where);
      }
    }
  } finally {
    console.log = print;
    rmSync(dir, { recursive: true, force: true });
  }
  return outcome;
}
