import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { JsonPath } from './json-path.js';

/**
 * Maps a finding's JSONPath to the line of the YAML (or JSON) text it points into: the deepest node
 * that exists (a finding about an unset field points at its parent). Keys match as written or in
 * lowerCamel form, as protobuf JSON accepts both.
 */
export function createLineOfPath(text: string): (path: JsonPath) => number | undefined {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  return (path) => {
    let node = doc.contents as Node | null;
    let line = node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
    for (const step of stepsOf(path)) {
      const next = childOf(node, step);
      if (next === undefined) break;
      node = next;
      if (node.range) line = lineCounter.linePos(node.range[0]).line;
    }
    return line;
  };
}

function childOf(node: Node | null, step: string | number): Node | undefined {
  if (typeof step === 'number') return isSeq(node) ? ((node.items[step] as Node | undefined) ?? undefined) : undefined;
  if (!isMap(node)) return undefined;
  const camel = step.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  const pair = node.items.find((p) => isScalar(p.key) && (p.key.value === step || p.key.value === camel));
  // A key with an empty value points at the key.
  return (pair?.value as Node | null | undefined) ?? (pair?.key as Node | undefined);
}

/** `$.a.b[0]['@type']` → `['a', 'b', 0, '@type']` (the inverse of json-path.ts `at`). */
function stepsOf(path: JsonPath): (string | number)[] {
  const steps: (string | number)[] = [];
  for (const m of path.slice(1).matchAll(/\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]/g)) {
    if (m[1] !== undefined) steps.push(m[1]);
    else if (m[2] !== undefined) steps.push(Number(m[2]));
    else steps.push((m[3] as string).replaceAll("\\'", "'"));
  }
  return steps;
}
