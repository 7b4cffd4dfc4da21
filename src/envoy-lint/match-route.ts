import { RE2JS } from 're2js';
import type { HeaderMatcher, RouteMatch } from '../gen/envoy/config/route/v3/route_components_pb.js';
import { matchString } from './match-string.js';

/**
 * Whether a route's match (route_components.proto, RouteMatch) takes a request with this method and
 * path: prefix, path, safe_regex and path_separated_prefix, `case_sensitive`, and `:method` header
 * matchers. Anything else it cannot evaluate here (query parameters, other headers, runtime fractions,
 * URI templates) counts as a match: the question asked is whether a function CAN be reached.
 */
export function matchRoute(match: RouteMatch, method: string, path: string): boolean {
  const sensitive = match.caseSensitive !== false;
  const fold = (s: string) => (sensitive ? s : s.toLowerCase());
  const spec = match.pathSpecifier;
  let pathOk: boolean;
  switch (spec.case) {
    case 'prefix':
      pathOk = fold(path).startsWith(fold(spec.value));
      break;
    case 'path':
      pathOk = fold(path) === fold(spec.value);
      break;
    case 'pathSeparatedPrefix':
      pathOk = fold(path) === fold(spec.value) || fold(path).startsWith(`${fold(spec.value)}/`);
      break;
    case 'safeRegex':
      pathOk = compiles(spec.value.regex) ? RE2JS.compile(spec.value.regex).matches(path) : true;
      break;
    case 'connectMatcher':
      pathOk = method === 'CONNECT';
      break;
    default:
      pathOk = true;
  }
  return pathOk && match.headers.every((header) => matchMethodHeader(header, method) !== false);
}

function matchMethodHeader(header: HeaderMatcher, method: string): boolean | undefined {
  if (header.name !== ':method') return undefined;
  const spec = header.headerMatchSpecifier;
  let result: boolean | undefined;
  switch (spec.case) {
    case 'exactMatch':
      result = method === spec.value;
      break;
    case 'prefixMatch':
      result = method.startsWith(spec.value);
      break;
    case 'stringMatch':
      result = matchString(spec.value, method);
      break;
    case 'presentMatch':
      result = spec.value;
      break;
    default:
      result = undefined;
  }
  return result === undefined ? undefined : result !== header.invertMatch;
}

function compiles(regex: string): boolean {
  try {
    RE2JS.compile(regex);
    return true;
  } catch {
    return false;
  }
}
