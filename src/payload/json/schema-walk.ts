import { parsePointer } from '../json-pointer.js';

/**
 * Walking a JSON Schema document: its subschemas with their JSON pointers, the ones applied in place, and
 * the references that stay in the file (`#`, `#/pointer`, `#anchor`).
 */

// Draft 2020-12 applicators, by the shape of their value.
const ONE_SCHEMA = [
  'additionalProperties',
  'propertyNames',
  'items',
  'contains',
  'not',
  'if',
  'then',
  'else',
  'unevaluatedItems',
  'unevaluatedProperties',
  'contentSchema',
];
const SCHEMA_LIST = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
// `definitions` and `dependencies` (schema values) are draft-07 forms ajv still applies in 2020-12 mode.
const SCHEMA_MAP = ['properties', 'patternProperties', '$defs', 'dependentSchemas', 'definitions', 'dependencies'];

/** A JSON Schema object (a boolean schema has no keywords to walk). */
export type SchemaObject = Readonly<Record<string, unknown>>;

export function isSchemaObject(value: unknown): value is SchemaObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Calls `visit` on every schema object under `schema` (unknown keywords are not entered). */
export function forEachSubschema(schema: unknown, tokens: string[], visit: (schema: SchemaObject, tokens: string[]) => void): void {
  if (!isSchemaObject(schema)) return;
  visit(schema, tokens);
  for (const keyword of ONE_SCHEMA) if (keyword in schema) forEachSubschema(schema[keyword], [...tokens, keyword], visit);
  for (const keyword of SCHEMA_LIST) {
    const list = schema[keyword];
    if (Array.isArray(list)) for (const [i, s] of list.entries()) forEachSubschema(s, [...tokens, keyword, String(i)], visit);
  }
  for (const keyword of SCHEMA_MAP) {
    const map = schema[keyword];
    if (isSchemaObject(map)) for (const [name, s] of Object.entries(map)) forEachSubschema(s, [...tokens, keyword, name], visit);
  }
}

/** Subschemas applied to the same data as `s` (in place: Core §10.2), each with its pointer. */
export function inPlaceChildren(root: unknown, s: SchemaObject, at: readonly string[]): [unknown, string[]][] {
  const children: [unknown, string[]][] = [];
  for (const keyword of ['allOf', 'anyOf', 'oneOf']) {
    const list = s[keyword];
    if (Array.isArray(list)) for (const [i, child] of list.entries()) children.push([child, [...at, keyword, String(i)]]);
  }
  for (const keyword of ['not', 'if', 'then', 'else']) if (keyword in s) children.push([s[keyword], [...at, keyword]]);
  const dependent = s['dependentSchemas'];
  if (isSchemaObject(dependent)) for (const [name, child] of Object.entries(dependent)) children.push([child, [...at, 'dependentSchemas', name]]);
  const ref = s['$ref'];
  const target = typeof ref === 'string' ? resolveLocalRef(root, ref) : undefined;
  if (target !== undefined) children.push([target.schema, target.tokens]);
  return children;
}

/**
 * `#`, `#/json/pointer` or `#anchor` (a `$anchor` of the file) against the schema file's root; other
 * references (to another `$id`, another document) are not followed.
 */
export function resolveLocalRef(root: unknown, ref: string): { schema: unknown; tokens: string[] } | undefined {
  if (!ref.startsWith('#')) return undefined;
  if (ref.length > 1 && ref[1] !== '/') return findAnchor(root, ref.slice(1));
  let tokens: string[] | undefined;
  try {
    tokens = parsePointer(decodeURIComponent(ref.slice(1)));
  } catch {
    return undefined;
  }
  if (tokens === undefined) return undefined;
  let node: unknown = root;
  for (const token of tokens) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, token)) return undefined;
    node = (node as Record<string, unknown>)[token];
  }
  return { schema: node, tokens };
}

function findAnchor(root: unknown, anchor: string): { schema: unknown; tokens: string[] } | undefined {
  let found: { schema: unknown; tokens: string[] } | undefined;
  forEachSubschema(root, [], (schema, tokens) => {
    if (found === undefined && schema['$anchor'] === anchor) found = { schema, tokens };
  });
  return found;
}
