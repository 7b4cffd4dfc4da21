/**
 * The JSON-Schema-Test-Suite, draft 2020-12 (see ../shared/conformance/README.md), through the real
 * Check path: every group's schema is one function's `input.schema` in one config, loaded by
 * buildCallguard; every test's data is sent as the JSON body of a CheckRequest to the running gRPC
 * server, from an mTLS peer the function allows. Run twice: the schemas as shipped, and with a root
 * `type` added (as the README asks of a function's schema; see withRootType).
 * - Nothing expected invalid is allowed (fail-open: zero, no exception).
 * - Every test expected valid but denied is listed below with its reason (DENIED), and nothing else is.
 * - Every group whose schema callguard refuses at load is counted under a listed reason (REFUSED), all
 *   reported by the first build at once (the second build, without them, loads).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildCallguard, type Callguard } from '../../src/build-callguard.js';
import { parseConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';
import { type RunningServer, startGrpcServer } from '../../src/server/grpc-server.js';
import { conformanceDir, testMissingConformanceData } from '../helpers/conformance.js';
import { createCheckClient, summarize } from '../helpers/envoy-check.js';
import { readDraft2020Groups, type SuiteGroup, withRootType } from '../helpers/json-schema-suite.js';
import { createMemoryDestination } from '../helpers/memory-destination.js';
import { createTestCerts } from '../helpers/test-certs.js';

const CALLER = 'spiffe://example.org/ns/suite/sa/caller';

/** A documented outcome: what it covers (test `id: description`, or a refusal message) and why. */
interface Listed {
  readonly why: string;
  readonly match: RegExp;
  /** How many groups (REFUSED) or tests (DENIED) it covers in this run; a change is a failure to look at. */
  readonly count: number;
}

type Variant = 'as shipped' | 'with a root type';

interface Outcome {
  /** Group id → the problems its schema was refused with. */
  readonly refused: Map<string, string[]>;
  readonly failOpen: string[];
  /** `id: description` → the denial's code. */
  readonly denied: Map<string, string>;
  allowed: number;
}

const BIG_INTEGER = 'an integer beyond ±(2^53−1) is refused by the strict JSON parser by design (ERR_BODY_INVALID_JSON): it has no exact double';

/** Valid data that callguard denies, by variant, with the reason. */
const DENIED: Record<Variant, readonly Listed[]> = {
  'as shipped': [{ why: BIG_INTEGER, match: /^(const\.json #13|optional\/bignum\.json #[01]|optional\/float-overflow\.json #0):/, count: 7 }],
  'with a root type': [
    { why: BIG_INTEGER, match: /^(const\.json #13|optional\/bignum\.json #[0135]|optional\/float-overflow\.json #0) /, count: 4 },
    {
      why: 'callguard asserts formats (ajv-formats), while 2020-12 makes format an annotation by default: a string that breaks its format is denied',
      match: /^format\.json #\d+ \+type:string: invalid .* string is only an annotation by default$/,
      count: 15,
    },
    {
      why: 'hostname: only ASCII LDH labels; IDNA A-labels (xn--) are refused, their IDNA 2008 rules are not checked',
      match: /^optional\/format\/hostname\.json #1 /,
      count: 15,
    },
    { why: 'email: ajv-formats accepts no quoted local part and no address literal', match: /^optional\/format\/email\.json #0 /, count: 5 },
    { why: 'date-time: ajv-formats refuses a fraction of fifteen nines', match: /^optional\/format\/date-time\.json #0 .*fifteen nines/, count: 1 },
    { why: 'uri-template: ajv-formats refuses dotted variable names and apostrophes', match: /^optional\/format\/uri-template\.json #0 /, count: 2 },
    {
      why: 'an artifact of the variant: the added root type applies again where the schema refers to its root ("$ref": "#"), so a non-object the suite deems valid there is not',
      match: /^ref\.json #0 \+type:object: (match|recursive match)$/,
      count: 2,
    },
  ],
};

const REMOTE = /can't resolve reference|no schema with key or ref "http:\/\/localhost:1234/;

/** Why callguard refuses a schema at load, by variant; `count` groups have at least one such problem. */
const REFUSED: Record<Variant, readonly Listed[]> = {
  'as shipped': refusals([272, 30, 7, 16, 5, 4, 23, 18, 27, 3, 6, 1, 1]),
  'with a root type': refusals([233, 30, 7, 22, 7, 24, 18, 18, 31, 4, 2, 6, 3]),
};

/** Of 449 groups as shipped, 724 root-type variants. */
const REFUSED_GROUPS: Record<Variant, number> = { 'as shipped': 331, 'with a root type': 374 };

/** The reasons, with how many groups of the variant each covers (`counts`, in this order). */
function refusals(counts: readonly number[]): Listed[] {
  const reasons: Omit<Listed, 'count'>[] = [
    {
      why: 'strict types: a keyword needs its type declared beside it (README: `type: object` beside `properties`), so a schema never silently accepts another type',
      match: /\(strictTypes\)$/,
    },
    { why: 'strict tuples: prefixItems needs minItems and items: false (or maxItems)', match: /-tuple, but minItems or maxItems\/items are not specified/ },
    { why: 'strict required: a required property must be declared in properties', match: /\(strictRequired\)$/ },
    {
      why: 'a keyword without effect (then without if, contains bounds without contains, …), a likely mistake',
      match: /is ignored|keyword ignored|always invalid|allowMatchingProperties/,
    },
    { why: 'unknown keyword: a misspelt keyword would be ignored', match: /unknown keyword: / },
    { why: 'unknown format (ajv-formats does not assert it, e.g. idn-email, iri)', match: /unknown format "/ },
    {
      why: '$dynamicRef / $dynamicAnchor: ajv implements them only in part (wrong results, endless recursion)',
      match: /\$dynamic(Ref|Anchor) is not supported|\$dynamicRef" only supports/,
    },
    {
      why: 'unevaluatedProperties/Items reading a conditional branch: ajv 8.20 counts a failed branch (two fail-opens in the suite)',
      match: /is refused here: it reads what the conditional/,
    },
    {
      why: "a schema is one self-contained file: other documents (the suite's localhost:1234 remotes, other $ids, a custom meta-schema) are not loaded",
      match: REMOTE,
    },
    {
      why: 'ajv recurses without end compiling references through nested $ids, or the compiled schema does on every body',
      match: /recurse without end|cannot be evaluated/,
    },
    { why: 'a pattern RE2 cannot run (linear-time engine)', match: /not supported by the linear-time RE2 engine/ },
    { why: 'ajv refuses an empty enum', match: /enum must have non-empty array/ },
    { why: 'ajv refuses two schemas under one $id', match: /resolves to more than one schema/ },
  ];
  return reasons.map((r, i) => ({ ...r, count: counts[i] ?? 0 }));
}

const CONFORMANCE = conformanceDir();
if (CONFORMANCE === undefined) {
  testMissingConformanceData('JSON-Schema-Test-Suite', 'JSON-Schema-Test-Suite (JSON-Schema-Test-Suite/tests/draft2020-12)');
} else {
  const shipped = readDraft2020Groups(join(CONFORMANCE, 'JSON-Schema-Test-Suite'));
  const certs = createTestCerts();
  let pem = '';
  beforeAll(() => {
    pem = certs.leaf('caller', `URI:${CALLER}`).pem;
  });
  afterAll(() => certs.cleanup());

  describe.each<{ variant: Variant; groups: readonly SuiteGroup[] }>([
    { variant: 'as shipped', groups: shipped },
    { variant: 'with a root type', groups: withRootType(shipped) },
  ])('draft 2020-12 $variant', ({ variant, groups }) => {
    let outcome: Outcome;
    beforeAll(async () => {
      outcome = await runSuite(groups, pem);
    }, 180_000);

    it('allows nothing the suite holds invalid (fail-open: zero)', () => {
      expect(outcome.failOpen).toEqual([]);
      expect(outcome.allowed).toBeGreaterThan(0);
    });

    it('denies a valid body only where listed, with a body code', () => {
      const listed = DENIED[variant];
      for (const [where, code] of outcome.denied) {
        expect
          .soft(
            listed.find((l) => l.match.test(where)),
            `not listed: ${where} (${code})`,
          )
          .toBeDefined();
        expect.soft(code, where).toMatch(/^ERR_BODY_(SCHEMA|INVALID_JSON)$/);
      }
      const counts = listed.map((l) => ({ why: l.why, count: [...outcome.denied.keys()].filter((w) => l.match.test(w)).length }));
      expect(counts).toEqual(listed.map(({ why, count }) => ({ why, count })));
    });

    it('refuses at load only for listed reasons, every problem of every schema at once', () => {
      const listed = REFUSED[variant];
      for (const [id, problems] of outcome.refused) {
        for (const p of problems)
          expect
            .soft(
              listed.find((l) => l.match.test(p)),
              `not listed: ${id}: ${p}`,
            )
            .toBeDefined();
      }
      const counts = listed.map((l) => ({ why: l.why, count: [...outcome.refused.values()].filter((ps) => ps.some((p) => l.match.test(p))).length }));
      expect(counts).toEqual(listed.map(({ why, count }) => ({ why, count })));
      expect(outcome.refused.size).toBe(REFUSED_GROUPS[variant]);
    });
  });
}

/** Builds one callguard with a function per group, then sends every test as a CheckRequest. */
async function runSuite(groups: readonly SuiteGroup[], pem: string): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'callguard-jsts-'));
  const file = join(dir, 'callguard.yaml');
  const functions = groups.map((g, i) => {
    writeFileSync(join(dir, `g${i}.json`), JSON.stringify(g.schema));
    return { name: `suite.${i}`, allow: [{ spiffeIds: [CALLER] }], input: { schema: `g${i}.json` } };
  });
  const yaml = (fns: typeof functions) =>
    stringify({ server: { listen: '127.0.0.1:0' }, identity: { spiffe: { trustDomains: ['example.org'] } }, functions: fns });

  // First build: every schema problem of every function, at once.
  const refused = new Map<string, string[]>();
  try {
    await buildCallguard(parseConfig(yaml(functions), file), { decisionLog: createMemoryDestination().stream });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) {
      const index = /^\/functions\/(\d+)\/input\/schema$/.exec(p.path)?.[1];
      const group = index === undefined ? undefined : groups[Number(index)];
      if (group === undefined) throw new Error(`a problem outside a schema: ${p.path}: ${p.message}`);
      refused.set(group.id, [...(refused.get(group.id) ?? []), p.message]);
    }
  }
  const loadable = functions.filter((_, i) => !refused.has((groups[i] as SuiteGroup).id));

  // Second build: the rest loads (so the first listed every problem), and serves.
  const log = createMemoryDestination();
  const callguard: Callguard = await buildCallguard(parseConfig(yaml(loadable), file), { decisionLog: log.stream });
  const server: RunningServer = await startGrpcServer(parseConfig(yaml(loadable), file).server, callguard.handleCheck);
  const client = createCheckClient(server.address);
  const outcome: Outcome = { refused, failOpen: [], denied: new Map(), allowed: 0 };
  try {
    const calls = groups.flatMap((g, i) =>
      refused.has(g.id) ? [] : g.tests.map((t) => ({ fn: `suite.${i}`, where: `${g.id}: ${t.description}`, data: t.data, valid: t.valid })),
    );
    for (let start = 0; start < calls.length; start += 64) {
      await Promise.all(
        calls.slice(start, start + 64).map(async (c) => {
          const r = summarize(
            await client.check({
              path: '/suite',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(c.data),
              peer: { principal: CALLER, pem },
              contextExtensions: { function: c.fn },
            }),
          );
          if (r.allow) {
            outcome.allowed++;
            if (!c.valid) outcome.failOpen.push(c.where);
          } else if (c.valid) outcome.denied.set(c.where, r.problem.code);
        }),
      );
    }
  } finally {
    client.close();
    await server.close(1000);
    await callguard.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return outcome;
}
