import type { FunctionConfig } from '../config/types.js';
import { requestPathSegments, templateParamNames } from '../functions/path-template.js';

/**
 * What the decision log may say about a request's method, host, path and ids: only values whose
 * shape proves they carry nothing but what they name. Callers control all of these (a second
 * `Host` header Envoy joins with a comma, `/orders/42;token=…`, a query string), so a value that
 * does not have its expected shape is flagged, never copied.
 */
export interface RequestFacts {
  readonly method: string;
  /** The function's path template (`/orders/{id}`); null when no template matched (unknown or route-named). */
  readonly route: string | null;
  /** Values of the template's parameters the function lists in `match.logParams`. */
  readonly params?: Readonly<Record<string, string>>;
  /** The single authority Envoy routed on; absent when the value was not one (see `hostProblem`). */
  readonly host?: string;
  readonly hostProblem?: 'multiple values' | 'not a host name';
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE']);
/** RFC 3986 §3.2.2 reg-name restricted to DNS labels, or a bracketed IPv6 literal; an optional port. */
const AUTHORITY = /^(?:(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?|\[[0-9a-f:.]{2,45}\])(?::[0-9]{1,5})?$/;
/** Unreserved characters only (RFC 3986 §2.3): no `;` matrix parameters, no percent-encoding. */
const SAFE_VALUE = /^[A-Za-z0-9._~-]{1,64}$/;
const MATRIX = ';';
export const REDACTED = '[redacted]';

/** Media types recorded as they are; any other `content-type` (a caller's free text) is recorded as `other`. */
const MEDIA_TYPES = new Set([
  'application/json',
  'application/problem+json',
  'application/x-www-form-urlencoded',
  'application/octet-stream',
  'application/grpc',
  'application/grpc+proto',
  'multipart/form-data',
  'text/plain',
]);
export function safeMediaType(essence: string): string {
  return MEDIA_TYPES.has(essence) ? essence : 'other';
}

const POINTER_SEGMENT = /^(?:[0-9]{1,9}|[A-Za-z0-9_.-]{1,64})$/;
const MAX_POINTER = 256;
/**
 * A JSON pointer into a caller's body, as safe to log: segments that are plain names or indexes
 * are kept, any other (a caller's key of any shape in a map-like object) becomes `*`; at most 256
 * characters. RFC 6901 escapes (`~0`, `~1`) count as other.
 */
export function safePointer(pointer: string): string {
  const safe = pointer
    .split('/')
    .map((segment, i) => (i === 0 || POINTER_SEGMENT.test(segment) ? segment : '*'))
    .join('/');
  return safe.length <= MAX_POINTER ? safe : `${safe.slice(0, MAX_POINTER)}…`;
}

/** A method name if it is a standard one, else `OTHER` (an extension method is a caller-chosen token). */
export function safeMethod(method: string): string {
  return METHODS.has(method) ? method : 'OTHER';
}

/** The host, lower-cased, when it is one authority; else why not. */
export function safeHost(host: string): { host?: string; problem?: 'multiple values' | 'not a host name' } {
  const lower = host.toLowerCase();
  if (lower.length <= 260 && AUTHORITY.test(lower)) return { host: lower };
  return { problem: host.includes(',') ? 'multiple values' : 'not a host name' };
}

/** A correlation id (Envoy's `x-request-id`, which an internal caller can set) if it has a safe shape. */
export function safeToken(value: string): string {
  return SAFE_VALUE.test(value) ? value : REDACTED;
}

interface Route {
  readonly template: string;
  /** For each template segment, the parameter name to log there, or null; undefined when none is logged. */
  readonly logged?: readonly (string | null)[];
}

/** Builds, once per config, the lookup from a decided function to what its request may log. */
export function createRequestFacts(
  functions: readonly FunctionConfig[],
): (functionName: string | undefined, method: string, path: string, host: string) => RequestFacts {
  const routes = new Map<string, Route>();
  for (const fn of functions) {
    if (fn.match === undefined) continue;
    const loggable = new Set(fn.match.logParams);
    const logged = templateParamNames(fn.match.path).map((name) => (name !== null && loggable.has(name) ? name : null));
    routes.set(fn.name, logged.some((name) => name !== null) ? { template: fn.match.path, logged } : { template: fn.match.path });
  }
  return (functionName, method, path, host) => {
    const route = functionName === undefined ? undefined : routes.get(functionName);
    const { host: safe, problem } = safeHost(host);
    const facts: { -readonly [K in keyof RequestFacts]: RequestFacts[K] } = { method: safeMethod(method), route: route?.template ?? null };
    if (route?.logged !== undefined) facts.params = paramsOf(route.logged, path);
    if (safe !== undefined) facts.host = safe;
    else if (problem !== undefined) facts.hostProblem = problem;
    return facts;
  };
}

function paramsOf(logged: readonly (string | null)[], path: string): Record<string, string> {
  const segments = requestPathSegments(path) ?? [];
  const params: Record<string, string> = {};
  logged.forEach((name, i) => {
    if (name === null) return;
    const segment = segments[i] ?? '';
    const matrix = segment.indexOf(MATRIX);
    const value = matrix === -1 ? segment : segment.slice(0, matrix);
    params[name] = SAFE_VALUE.test(value) ? value : REDACTED;
  });
  return params;
}
