/** A parsed `match.path`: literal segments and `{param}` segments (each matches one whole segment). */
export interface PathTemplate {
  readonly segments: readonly (string | null)[]; // null = parameter
  readonly shape: string; // `/orders/{}` — for duplicate detection
  readonly literal: boolean;
}

export type PathTemplateResult = { ok: true; template: PathTemplate } | { ok: false; problem: string };

const PARAM = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
const LITERAL = /^[A-Za-z0-9._~!$&'()*+,;=:@-]+$/;

/** Parses a configured path (`/orders/{id}/items`). Rejects anything ambiguous after normalization. */
export function parsePathTemplate(path: string): PathTemplateResult {
  if (!path.startsWith('/')) return { ok: false, problem: 'must start with "/"' };
  if (path === '/') return ok([]);
  const parts = path.slice(1).split('/');
  const segments: (string | null)[] = [];
  for (const part of parts) {
    if (PARAM.test(part)) segments.push(null);
    else if (part === '' || part === '.' || part === '..') return { ok: false, problem: `empty, "." or ".." segment in "${path}"` };
    else if (!LITERAL.test(part)) return { ok: false, problem: `segment "${part}" has characters that are not allowed (no %, {, } or spaces)` };
    else segments.push(part);
  }
  return ok(segments);
}

/**
 * For each segment of a configured path (`/orders/{id}/items`), the parameter's name, or null for a
 * literal segment: `[null, 'id', null]`.
 */
export function templateParamNames(path: string): (string | null)[] {
  if (path === '/') return [];
  return path
    .slice(1)
    .split('/')
    .map((part) => PARAM.exec(part)?.[1] ?? null);
}

function ok(segments: (string | null)[]): PathTemplateResult {
  const shape = `/${segments.map((s) => s ?? '{}').join('/')}`;
  return { ok: true, template: { segments, shape, literal: segments.every((s) => s !== null) } };
}

/**
 * Splits a request path into segments for matching, or undefined when the path is not in
 * canonical form (`//`, `.`/`..` segments, percent-encoded `/` `\` `.`, backslashes): such a path
 * never matches, whatever Envoy's normalization settings (defence in depth, RFC 3986 §6.2.2).
 */
export function requestPathSegments(pathWithQuery: string): string[] | undefined {
  let end = pathWithQuery.length;
  const q = pathWithQuery.indexOf('?');
  if (q !== -1) end = q;
  const h = pathWithQuery.indexOf('#');
  if (h !== -1 && h < end) end = h;
  const path = pathWithQuery.slice(0, end);
  if (!path.startsWith('/') || path.includes('\\') || /%(2f|5c|2e)/i.test(path)) return undefined;
  if (path === '/') return [];
  const parts = path.slice(1).split('/');
  for (const part of parts) {
    if (part === '' || part === '.' || part === '..') return undefined;
  }
  return parts;
}
