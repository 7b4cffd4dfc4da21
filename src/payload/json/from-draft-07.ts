import { formatPointer } from '../json-pointer.js';
import type { RefusedConstruct } from './schema-constructs.js';
import { forEachSubschema, isSchemaObject, type SchemaObject } from './schema-walk.js';

/** The dialect callguard compiles (ajv's Ajv2020). */
export const DRAFT_2020_12 = 'https://json-schema.org/draft/2020-12/schema';

/**
 * draft-07's meta-schema URI, with and without its empty fragment (draft-07 Core §7). Only `http:`:
 * it is an identifier, not a location, and draft-07 validators (ajv, @hyperjump/json-schema) know
 * no `https:` form either.
 */
const DRAFT_07 = new Set(['http://json-schema.org/draft-07/schema#', 'http://json-schema.org/draft-07/schema']);

// Other json-schema.org dialects (draft-03 … draft-06, 2019-09, http/https, with or without `#`).
const OTHER_DIALECT = /^https?:\/\/json-schema\.org\/(draft-0\d\/schema|draft\/\d{4}-\d{2}\/schema)#?$/;

const DECLARE_2020_12 = `declare "$schema": "${DRAFT_2020_12}" to use it`;

/** Where a keyword stands in the document. */
interface Place {
  readonly root: boolean;
  /** Under `$defs`, which draft-07 does not know: no keyword there identifies anything in draft-07. */
  readonly underDefs: boolean;
}

/** The message refusing `keyword` here, or undefined when it means the same in draft-07 and 2020-12. */
type Rule = (value: unknown, schema: SchemaObject, place: Place) => string | undefined;

const always =
  (message: string): Rule =>
  () =>
    message;
const newerOnly = (draft: string, inDraft07?: string): Rule =>
  always(
    `a ${draft} keyword: a draft-07 validator ignores it, 2020-12 applies it; ${DECLARE_2020_12}${inDraft07 === undefined ? '' : ` (draft-07 writes ${inDraft07})`}`,
  );

// Beside `$ref`, keywords without effect on validation in either draft: annotations, and schema
// containers a JSON pointer reaches in both (JSON-Schema-Test-Suite#198); the root `$schema` is replaced.
const SAME_BESIDE_REF = new Set([
  '$schema',
  'title',
  'description',
  '$comment',
  'default',
  'examples',
  'readOnly',
  'writeOnly',
  'deprecated',
  'definitions',
  '$defs',
]);

/**
 * Every draft-07 keyword whose meaning differs from 2020-12's (always, or in the case its rule names),
 * with what to write instead. A keyword not listed means the same in both, including four a reader may
 * expect here: `definitions` (ajv's 2020-12 core keeps it, as the 2020-12 meta-schema does), `dependencies`
 * (ajv's 2020-12 applicator applies it with its draft-07 meaning: suite optional/dependencies-compatibility),
 * `$defs` (unknown to draft-07, but a `"$ref": "#/$defs/x"` is a JSON pointer and resolves in both: only an
 * identifier inside it differs) and `contentMediaType`/`contentEncoding` (annotations in both as callguard
 * and @hyperjump/json-schema read draft-07, whose Validation §8 lets a validator assert them).
 * `format` is asserted in both, as for 2020-12 schemas; keywords unknown to both stay strict-mode errors.
 */
const DRAFT_07_RULES: ReadonlyMap<string, Rule> = new Map<string, Rule>([
  [
    'items',
    (value) =>
      Array.isArray(value)
        ? `items as an array is a draft-07 tuple, which 2020-12 writes as prefixItems (with additionalItems as items): ${DECLARE_2020_12}, or use one items schema for every item`
        : undefined,
  ],
  [
    'additionalItems',
    always(
      `additionalItems applies after an array-form items in draft-07 and is no 2020-12 keyword (2020-12 writes items after prefixItems): ${DECLARE_2020_12}`,
    ),
  ],
  [
    '$ref',
    (_value, schema) => {
      const beside = Object.keys(schema).filter((k) => k !== '$ref' && !SAME_BESIDE_REF.has(k));
      if (beside.length === 0) return undefined;
      return (
        `${beside.map((k) => `"${k}"`).join(', ')} beside $ref: draft-07 ignores every keyword beside $ref (Core §8.3), 2020-12 applies them; ` +
        'to apply them write "allOf": [{"$ref": …}, {…}], otherwise remove them'
      );
    },
  ],
  [
    '$id',
    (value, _schema, place) => {
      if (place.underDefs)
        return '$id under $defs: draft-07 does not know $defs, so this identifies nothing there but does in 2020-12; move the schema under definitions';
      if (typeof value === 'string' && /#./.test(value))
        return `$id "${value}" is a draft-07 plain-name fragment (Core §8.2.3), which 2020-12 writes as $anchor; refer to the schema by JSON pointer ("$ref": "#/definitions/…") instead`;
      return undefined;
    },
  ],
  [
    '$schema',
    (_value, _schema, place) => (place.root ? undefined : '$schema inside a draft-07 schema (draft-07 Core §7 allows it only at the root): remove it'),
  ],
  ['prefixItems', newerOnly('2020-12')],
  ['$dynamicRef', newerOnly('2020-12')],
  ['$dynamicAnchor', newerOnly('2020-12')],
  ['dependentRequired', newerOnly('2019-09', 'dependencies with an array')],
  ['dependentSchemas', newerOnly('2019-09', 'dependencies with a schema')],
  ['unevaluatedItems', newerOnly('2019-09')],
  ['unevaluatedProperties', newerOnly('2019-09')],
  ['minContains', newerOnly('2019-09')],
  ['maxContains', newerOnly('2019-09')],
  ['$anchor', newerOnly('2019-09')],
  ['$recursiveRef', newerOnly('2019-09')],
  ['$recursiveAnchor', newerOnly('2019-09')],
  ['$vocabulary', newerOnly('2019-09')],
]);

/** A schema file's dialect settled: the schema to compile as 2020-12, or why it cannot be. */
export interface DialectOutcome {
  readonly schema: unknown;
  readonly refused: readonly RefusedConstruct[];
}

/**
 * A draft-07 schema (root `$schema` draft-07) as the 2020-12 schema that means the same: its `$schema`
 * replaced, everything else unchanged, so it is compiled and checked as any 2020-12 schema; refused,
 * every construct at once, where a keyword means something else in 2020-12 (DRAFT_07_RULES). Another
 * json-schema.org dialect (draft-04, draft-06, 2019-09, an `https:` draft-07) is refused naming the two
 * callguard reads. Any other schema is returned as it is.
 */
export function fromDraft07(schema: unknown): DialectOutcome {
  if (!isSchemaObject(schema)) return { schema, refused: [] };
  const declared = schema['$schema'];
  if (typeof declared !== 'string' || declared === DRAFT_2020_12 || declared === `${DRAFT_2020_12}#`) return { schema, refused: [] };
  if (!DRAFT_07.has(declared)) {
    if (!OTHER_DIALECT.test(declared)) return { schema, refused: [] };
    const message =
      `$schema "${declared}" is not supported: callguard reads JSON Schema draft 2020-12 ("${DRAFT_2020_12}") and ` +
      'draft-07 ("http://json-schema.org/draft-07/schema#") where its keywords mean what they mean in 2020-12';
    return { schema, refused: [{ pointer: '/$schema', message }] };
  }
  const refused: RefusedConstruct[] = [];
  const underDefs = new Set<SchemaObject>();
  forEachSubschema(schema, [], (s, tokens) => {
    const place = { root: tokens.length === 0, underDefs: underDefs.has(s) };
    for (const [keyword, value] of Object.entries(s)) {
      const message = DRAFT_07_RULES.get(keyword)?.(value, s, place);
      if (message !== undefined) refused.push({ pointer: formatPointer([...tokens, keyword]), message });
    }
    const defs = s['$defs'];
    if (isSchemaObject(defs)) for (const def of Object.values(defs)) forEachSubschema(def, [], (d) => void underDefs.add(d));
  });
  return { schema: { ...schema, $schema: DRAFT_2020_12 }, refused };
}
