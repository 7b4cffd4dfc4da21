/**
 * How a config names a claim: a top-level claim name taken literally (`repository`,
 * `cognito:groups`, `https://example.com/roles`), or, starting with `/`, an RFC 6901 JSON pointer
 * into nested claims (`/kubernetes.io/serviceaccount/name`, `/realm_access/roles`).
 */
export type ClaimReader = (claims: Readonly<Record<string, unknown>>) => unknown;

/** Compiles a claim name once; reading never throws and yields `undefined` for anything absent. */
export function claimReader(name: string): ClaimReader {
  if (!name.startsWith('/')) return (claims) => (Object.hasOwn(claims, name) ? claims[name] : undefined);
  // RFC 6901 §4: `~1` is `/`, `~0` is `~`, decoded in that order.
  const segments = name
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  return (claims) => {
    let value: unknown = claims;
    for (const segment of segments) {
      // Objects only: an array index is not a claim name, and no prototype member is a claim.
      if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, segment)) return undefined;
      value = (value as Record<string, unknown>)[segment];
    }
    return value;
  };
}

/** A JSON pointer's problem (RFC 6901 §3: `~` only as `~0` or `~1`), or undefined. */
export function claimNameProblem(name: string): string | undefined {
  if (name === '') return 'an empty claim name';
  if (name.startsWith('/') && /~(?![01])/.test(name)) return 'a JSON pointer may use "~" only as "~0" or "~1" (RFC 6901 §3)';
  if (name === '/') return 'a JSON pointer needs a claim name after "/"';
  return undefined;
}
