import { formatPointer } from '../json-pointer.js';
import { forEachSubschema, inPlaceChildren, isSchemaObject, resolveLocalRef, type SchemaObject } from './schema-walk.js';

/** One construct of a schema file refused at load: where (RFC 6901 pointer into the schema) and why. */
export interface RefusedConstruct {
  readonly pointer: string;
  readonly message: string;
}

/** What the validator knows: its keywords and its formats. */
export interface KnownVocabulary {
  readonly keywords: ReadonlySet<string>;
  readonly formats: ReadonlySet<string>;
}

/**
 * Keywords ajv 8.20 implements only in part (bench/results/issue-12-json-schema.md): on the suite, most
 * `$dynamicRef` groups that load judge some data wrongly, and one recurses without end on every call.
 */
const REFUSED_KEYWORDS: ReadonlyMap<string, string> = new Map([
  ['$dynamicRef', '$dynamicRef is not supported (ajv resolves it only in part: wrong results and endless recursion on the official test suite); use $ref'],
  ['$dynamicAnchor', '$dynamicAnchor is not supported (see $dynamicRef); use $anchor'],
  ['$recursiveRef', '$recursiveRef is draft 2019-09, not 2020-12; use $ref'],
  ['$recursiveAnchor', '$recursiveAnchor is draft 2019-09, not 2020-12'],
  ['$async', '$async is an ajv extension, not JSON Schema'],
  ['nullable', 'nullable is OpenAPI 3.0, not JSON Schema; use type: ["string", "null"] or anyOf'],
]);

// Conditional in-place applicators: their subschemas' annotations count only when they apply (2020-12 Core §10.2.2, §7.7.1).
const CONDITIONAL = ['anyOf', 'oneOf', 'if', 'dependentSchemas'];
// Keywords that evaluate properties / items, i.e. produce the annotations unevaluated* reads (Core §11).
const EVALUATES: Record<'unevaluatedProperties' | 'unevaluatedItems', readonly string[]> = {
  unevaluatedProperties: ['properties', 'patternProperties', 'additionalProperties', 'unevaluatedProperties'],
  unevaluatedItems: ['prefixItems', 'items', 'contains', 'unevaluatedItems'],
};

/**
 * Every construct of `root` callguard refuses, all at once: unknown keywords and formats, keywords ajv
 * implements only in part, and `unevaluatedProperties`/`unevaluatedItems` that read annotations from
 * a conditional branch (anyOf, oneOf, if/then/else, dependentSchemas). ajv 8.20 merges a branch's
 * evaluated properties/items even when the branch fails (an `if` always; an `anyOf` branch in some
 * shapes), which lets unlisted properties or items through: fail-open, so refused.
 */
export function findRefusedConstructs(root: unknown, known: KnownVocabulary): RefusedConstruct[] {
  const refused: RefusedConstruct[] = [];
  const cycle = findInPlaceCycle(root);
  if (cycle !== undefined) {
    refused.push({
      pointer: cycle[0] ?? '',
      message: `reference cycle that consumes no data (${cycle.join(' → ')}): validating would recurse without end`,
    });
  }
  forEachSubschema(root, [], (schema, tokens) => {
    const at = formatPointer(tokens);
    for (const [keyword, value] of Object.entries(schema)) {
      const where = formatPointer([...tokens, keyword]);
      const reason = REFUSED_KEYWORDS.get(keyword);
      if (reason !== undefined) refused.push({ pointer: where, message: reason });
      else if (!known.keywords.has(keyword))
        refused.push({ pointer: where, message: `unknown keyword: "${keyword}" (a misspelt keyword would otherwise be ignored)` });
      if (keyword === 'format' && typeof value === 'string') {
        if (!known.formats.has(value)) refused.push({ pointer: where, message: `unknown format "${value}"` });
      }
    }
    for (const keyword of ['unevaluatedProperties', 'unevaluatedItems'] as const) {
      if (!(keyword in schema)) continue;
      const branch = conditionalAnnotations(root, schema, tokens, EVALUATES[keyword]);
      if (branch !== undefined) {
        refused.push({
          pointer: `${at}/${keyword}`,
          message:
            `${keyword} is refused here: it reads what the conditional ${branch} evaluates, and ajv 8.20 counts that even when the branch ` +
            'does not apply, which would let unlisted data through; list the properties/items outside the conditional (or use additionalProperties/items)',
        });
      }
    }
  });
  return refused;
}

/**
 * A cycle of in-place subschemas (`$ref`, allOf, anyOf, oneOf, not, if/then/else, dependentSchemas) from a schema back
 * to itself, as pointers, e.g. `{"$defs": {"a": {"allOf": [{"$ref": "#/$defs/a"}]}}}`: ajv compiles it,
 * then every body that reaches it overflows the stack. Undefined if there is none.
 */
function findInPlaceCycle(root: unknown): string[] | undefined {
  const done = new Set<SchemaObject>();
  const onPath = new Map<SchemaObject, number>();
  const path: string[] = [];
  const visit = (s: unknown, at: string[]): string[] | undefined => {
    if (!isSchemaObject(s) || done.has(s)) return undefined;
    const start = onPath.get(s);
    if (start !== undefined) return [...path.slice(start), formatPointer(at)];
    onPath.set(s, path.length);
    path.push(formatPointer(at));
    for (const [child, tokens] of inPlaceChildren(root, s, at)) {
      const found = visit(child, tokens);
      if (found !== undefined) return found;
    }
    path.pop();
    onPath.delete(s);
    done.add(s);
    return undefined;
  };
  let cycle: string[] | undefined;
  forEachSubschema(root, [], (schema, tokens) => {
    cycle ??= visit(schema, tokens);
  });
  return cycle;
}

/**
 * The pointer of the first conditional applicator, reachable in place from `schema` (through allOf,
 * anyOf, oneOf, if/then/else, dependentSchemas and local `$ref`s), whose subschemas hold one of
 * `evaluating`; undefined if none. A `$ref` this cannot follow counts as such a conditional.
 */
function conditionalAnnotations(root: unknown, schema: SchemaObject, tokens: string[], evaluating: readonly string[]): string | undefined {
  // A schema met once outside and once inside a conditional is walked both ways.
  const seen = { outside: new Set<SchemaObject>(), inside: new Set<SchemaObject>() };
  const walk = (s: unknown, at: string[], underConditional: string | undefined): string | undefined => {
    const visited = underConditional === undefined ? seen.outside : seen.inside;
    if (!isSchemaObject(s) || visited.has(s)) return undefined;
    visited.add(s);
    if (underConditional !== undefined && evaluating.some((k) => k in s)) return underConditional;
    const ref = s['$ref'];
    if (typeof ref === 'string') {
      const target = resolveLocalRef(root, ref);
      if (target === undefined) return `$ref "${ref}" at ${formatPointer([...at, '$ref'])} (not a local "#/..." reference)`;
      const found = walk(target.schema, target.tokens, underConditional);
      if (found !== undefined) return found;
    }
    for (const keyword of ['allOf', ...CONDITIONAL, 'then', 'else']) {
      const value = s[keyword];
      const conditional =
        underConditional ?? (CONDITIONAL.includes(keyword) || keyword === 'then' || keyword === 'else' ? formatPointer([...at, keyword]) : undefined);
      const children: [string, unknown][] = Array.isArray(value)
        ? value.map((v, i) => [String(i), v])
        : keyword === 'dependentSchemas' && isSchemaObject(value)
          ? Object.entries(value)
          : [['', value]];
      for (const [token, child] of children) {
        const found = walk(child, token === '' ? [...at, keyword] : [...at, keyword, token], conditional);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };
  return walk(schema, tokens, undefined);
}
