import type { FunctionConfig } from '../config/types.js';
import { type PathTemplate, parsePathTemplate, requestPathSegments } from './path-template.js';

/** How a request maps to a function: the route's `context_extensions.function`, else method + path. */
export interface FunctionRegistry {
  byName(name: string): FunctionConfig | undefined;
  match(method: string, path: string): FunctionConfig | undefined;
  /**
   * Whether a request may reach `fn` when its route names it: the path must be canonical, and a
   * function with a `match` must match the method and path too (a route is not a way around them).
   */
  accepts(fn: FunctionConfig, method: string, path: string): boolean;
  readonly size: number;
}

interface TemplateEntry {
  readonly template: PathTemplate;
  readonly fn: FunctionConfig;
}

/** Builds lookup tables once: exact paths by `METHOD path`, templates by `METHOD segment-count`. */
export function createFunctionRegistry(functions: readonly FunctionConfig[]): FunctionRegistry {
  const byName = new Map<string, FunctionConfig>();
  const exact = new Map<string, FunctionConfig>();
  const templates = new Map<string, TemplateEntry[]>();
  const ownTemplate = new Map<string, PathTemplate>();
  for (const fn of functions) {
    byName.set(fn.name, fn);
    if (!fn.match) continue;
    const parsed = parsePathTemplate(fn.match.path);
    if (!parsed.ok) throw new TypeError(`unvalidated path template for ${fn.name}`);
    const { template } = parsed;
    ownTemplate.set(fn.name, template);
    for (const method of functionMethods(fn)) {
      if (template.literal) {
        exact.set(`${method} /${template.segments.join('/')}`, fn);
      } else {
        const key = `${method} ${template.segments.length}`;
        const list = templates.get(key) ?? [];
        list.push({ template, fn });
        templates.set(key, list);
      }
    }
  }
  return {
    size: byName.size,
    byName: (name) => byName.get(name),
    accepts(fn, method, path) {
      const segments = requestPathSegments(path);
      if (segments === undefined) return false;
      const template = ownTemplate.get(fn.name);
      if (fn.match === undefined || template === undefined) return true;
      return functionMethods(fn).includes(method) && template.segments.length === segments.length && matches(template, segments);
    },
    match(method, path) {
      const segments = requestPathSegments(path);
      if (segments === undefined) return undefined;
      const hit = exact.get(`${method} /${segments.join('/')}`);
      if (hit) return hit;
      const candidates = templates.get(`${method} ${segments.length}`);
      if (!candidates) return undefined;
      // Most specific first: the template with the most literal segments wins.
      let best: TemplateEntry | undefined;
      let bestLiterals = -1;
      for (const entry of candidates) {
        if (!matches(entry.template, segments)) continue;
        const literals = entry.template.segments.filter((s) => s !== null).length;
        if (literals > bestLiterals) {
          best = entry;
          bestLiterals = literals;
        }
      }
      return best?.fn;
    },
  };
}

function matches(template: PathTemplate, segments: readonly string[]): boolean {
  for (let i = 0; i < segments.length; i++) {
    const want = template.segments[i];
    if (want !== null && want !== segments[i]) return false;
  }
  return true;
}

/**
 * The HTTP methods that reach a function at its `match.path`: its `match.method`, and for an MCP
 * endpoint also GET and DELETE (the streamable HTTP transport's other two), which its payload stage judges.
 */
export function functionMethods(fn: FunctionConfig): readonly string[] {
  const method = fn.match?.method ?? 'POST';
  return fn.mcp === undefined ? [method] : [...new Set([method, 'GET', 'DELETE'])];
}
