/** What an allowed call's query string needs before it goes upstream. */
export type QueryCleanup = { readonly ok: true; readonly remove: readonly string[] } | { readonly ok: false; readonly name: string };

const NOTHING: QueryCleanup = Object.freeze({ ok: true, remove: Object.freeze([]) as readonly string[] });

/**
 * The configured parameters present in the query of `path`, to remove (Envoy
 * `OkHttpResponse.query_parameters_to_remove` matches names exactly as sent). A name that only
 * percent-decodes to one of them (`access%5Ftoken`, `access_tok%65n`) would pass Envoy's removal yet
 * reach a function that decodes names: refused instead. No query, or none of the names: nothing to do.
 */
export function cleanQuery(path: string, names: ReadonlySet<string>): QueryCleanup {
  const q = path.indexOf('?');
  if (q === -1 || names.size === 0) return NOTHING;
  let remove: string[] | undefined;
  for (const pair of path.slice(q + 1).split('&')) {
    const eq = pair.indexOf('=');
    const raw = eq === -1 ? pair : pair.slice(0, eq);
    if (names.has(raw)) {
      remove ??= [];
      if (!remove.includes(raw)) remove.push(raw);
      continue;
    }
    if (!raw.includes('%') && !raw.includes('+')) continue;
    const decoded = decodeName(raw);
    if (decoded === undefined || names.has(decoded)) return { ok: false, name: decoded ?? raw };
  }
  return remove === undefined ? NOTHING : { ok: true, remove };
}

/** application/x-www-form-urlencoded name decoding (`+` is a space); undefined for a malformed escape. */
function decodeName(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}
