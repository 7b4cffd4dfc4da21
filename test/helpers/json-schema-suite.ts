import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** One test of the JSON-Schema-Test-Suite: `data` is expected `valid` or not against its group's schema. */
export interface SuiteTest {
  readonly description: string;
  readonly data: unknown;
  readonly valid: boolean;
}

/** One group (one schema, many tests), named `<file> #<index>` after its place in the suite. */
export interface SuiteGroup {
  /** e.g. `unevaluatedItems.json #12`, `optional/format/date.json #0`; with `+type:<t>` for a root-type variant. */
  readonly id: string;
  readonly description: string;
  readonly schema: unknown;
  readonly tests: readonly SuiteTest[];
}

const DRAFT = join('tests', 'draft2020-12');

/**
 * Formats ajv-formats asserts (draft 2020-12 names): `optional/format/<name>.json` runs only for these;
 * the others are unknown formats, refused at load in strict mode.
 */
export const ASSERTED_FORMATS = new Set([
  'date',
  'time',
  'date-time',
  'duration',
  'uri',
  'uri-reference',
  'uri-template',
  'email',
  'hostname',
  'ipv4',
  'ipv6',
  'regex',
  'uuid',
  'json-pointer',
  'relative-json-pointer',
]);

/**
 * The draft 2020-12 groups of the suite at `suiteDir`: every file of the draft directory, and of
 * `optional/` (the format files only for {@link ASSERTED_FORMATS}, as the suite's README asks runners
 * to enable format assertion there).
 */
export function readDraft2020Groups(suiteDir: string): SuiteGroup[] {
  const root = join(suiteDir, DRAFT);
  const files = [
    ...jsonFiles(root),
    ...jsonFiles(join(root, 'optional')),
    ...jsonFiles(join(root, 'optional', 'format')).filter((f) => ASSERTED_FORMATS.has(f.replace(/^.*\/|\.json$/g, ''))),
  ];
  return files.flatMap((file) => {
    const groups = JSON.parse(readFileSync(file, 'utf8')) as { description: string; schema: unknown; tests: SuiteTest[] }[];
    const name = relative(root, file);
    return groups.map((g, i) => ({ id: `${name} #${i}`, description: g.description, schema: g.schema, tests: g.tests }));
  });
}

/** The suite's remotes (`remotes/`), by the URI the suite expects them at (`http://localhost:1234/<path>`). */
export function readRemotes(suiteDir: string): Map<string, unknown> {
  const root = join(suiteDir, 'remotes');
  const remotes = new Map<string, unknown>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.json')) remotes.set(`http://localhost:1234/${relative(root, path)}`, JSON.parse(readFileSync(path, 'utf8')));
    }
  };
  walk(root);
  return remotes;
}

/** The JSON type of a test's data, as a root `type` keyword names it (every number as `number`). */
export function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'bigint' ? 'number' : typeof value;
}

/**
 * The groups again with a root `type` added, as callguard's README asks of a function's schema: one
 * variant per JSON type among the group's data, holding only the tests of that type (data of another
 * type is invalid by the added keyword alone). Only for object schemas without a root `type`.
 */
export function withRootType(groups: readonly SuiteGroup[]): SuiteGroup[] {
  return groups.flatMap((g) => {
    if (typeof g.schema !== 'object' || g.schema === null || 'type' in g.schema) return [];
    const types = [...new Set(g.tests.map((t) => jsonTypeOf(t.data)))];
    return types.map((type) => ({
      id: `${g.id} +type:${type}`,
      description: g.description,
      schema: { ...(g.schema as Record<string, unknown>), type },
      tests: g.tests.filter((t) => jsonTypeOf(t.data) === type),
    }));
  });
}

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.json'))
    .map((e) => join(dir, e.name))
    .sort();
}
