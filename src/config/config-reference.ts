import schema from './schema.json' with { type: 'json' };

interface Node {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, Node>;
  items?: Node;
  required?: string[];
  $ref?: string;
  oneOf?: Node[];
  minimum?: number;
  maximum?: number;
}

const defs = (schema as { $defs: Record<string, Node> }).$defs;

/**
 * The configuration reference as a Markdown table, generated from schema.json (the schema is the
 * documentation; the README embeds this output and a test keeps them identical).
 */
export function configReference(): string {
  const rows: string[] = ['| key | type | default | description |', '| --- | --- | --- | --- |'];
  walk(schema as Node, '', rows, new Set());
  return rows.join('\n');
}

function walk(node: Node, path: string, rows: string[], required: ReadonlySet<string>): void {
  const resolved = resolve(node);
  if (resolved.properties) {
    const req = new Set(resolved.required ?? []);
    for (const [key, child] of Object.entries(resolved.properties)) {
      const childPath = path === '' ? key : `${path}.${key}`;
      row(child, childPath, rows, req.has(key));
      walk(child, childPath, rows, req);
    }
  }
  if (resolved.items) walk(resolved.items, `${path}[]`, rows, required);
  if (resolved.oneOf) {
    for (const branch of resolved.oneOf) {
      rows.push(`| \`${path}\` (one form) | object | | ${escapeCell(branch.description ?? '')} |`);
      walk(branch, path, rows, required);
    }
  }
}

function row(node: Node, path: string, rows: string[], isRequired: boolean): void {
  const resolved = resolve(node);
  const type = resolved.enum ? resolved.enum.map((v) => `\`${String(v)}\``).join(', ') : typeName(resolved);
  const dflt = resolved.default === undefined ? (isRequired ? '*required*' : '') : `\`${JSON.stringify(resolved.default)}\``;
  const range = resolved.minimum !== undefined || resolved.maximum !== undefined ? ` (${resolved.minimum ?? ''}–${resolved.maximum ?? ''})` : '';
  rows.push(`| \`${path}\` | ${type}${range} | ${dflt} | ${escapeCell(resolved.description ?? node.description ?? '')} |`);
}

function typeName(node: Node): string {
  if (node.type === 'array') return `array of ${node.items ? typeName(resolve(node.items)) : 'any'}`;
  if (node.enum) return 'string';
  if (Array.isArray(node.type)) return node.type.join(' \\| ');
  return node.type ?? (node.oneOf ? 'object' : 'any');
}

function resolve(node: Node): Node {
  if (node.$ref === undefined) return node;
  const name = node.$ref.replace('#/$defs/', '');
  const target = defs[name];
  if (target === undefined) throw new TypeError(`unresolved $ref ${node.$ref}`);
  return { ...target, ...(node.description ? { description: node.description } : {}) };
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
