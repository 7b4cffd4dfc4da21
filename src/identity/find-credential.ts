import { type Failure, fail } from '../failure.js';
import type { Authenticator } from './authenticator.js';

/** The credential a request carries and the authenticator that reads it. */
export interface PresentedCredential {
  readonly ok: true;
  readonly authenticator: Authenticator;
  /** The header value after the scheme (or the whole value of a dedicated header): untrusted, unparsed. */
  readonly credential: string;
  /** The header it came from. */
  readonly header: string;
}

export type FindCredential = (headers: Readonly<Record<string, string>>) => PresentedCredential | Failure | undefined;

/**
 * Creates the lookup of a request's credential: the `Authorization` header by scheme
 * (RFC 9110 §11.6.2, `auth-scheme SP token68`; schemes are case-insensitive, §11.1), or a header an
 * authenticator owns (e.g. `x-api-key`). `undefined` means the request carries none. More than one
 * credential, or one header sent twice (Envoy joins duplicates with `,`, which token68 never
 * contains), is ambiguous and refused: no "first one wins".
 */
export function createFindCredential(authenticators: readonly Authenticator[]): FindCredential {
  const byScheme = new Map<string, Authenticator>();
  const dedicated: { header: string; authenticator: Authenticator }[] = [];
  for (const authenticator of authenticators) {
    if (byScheme.has(authenticator.scheme)) throw new TypeError(`two authenticators answer to the scheme "${authenticator.scheme}"`);
    byScheme.set(authenticator.scheme, authenticator);
    for (const header of authenticator.headers) dedicated.push({ header, authenticator });
  }
  const ambiguous = fail('ERR_CREDENTIAL_AMBIGUOUS', 'send exactly one credential, in one header');

  return function findCredential(headers) {
    let found: PresentedCredential | undefined;
    // Own properties only: a header name is never looked up on the prototype (`constructor`).
    const authorization = Object.hasOwn(headers, 'authorization') ? headers['authorization'] : undefined;
    if (authorization !== undefined) {
      if (authorization.includes(',')) return ambiguous;
      const space = authorization.indexOf(' ');
      const scheme = (space === -1 ? authorization : authorization.slice(0, space)).toLowerCase();
      const authenticator = byScheme.get(scheme);
      if (authenticator === undefined) {
        return fail('ERR_CREDENTIAL_SCHEME', `the Authorization header must be '<scheme> <credential>' with a scheme of: ${[...byScheme.keys()].join(', ')}`);
      }
      found = { ok: true, authenticator, credential: space === -1 ? '' : authorization.slice(space + 1), header: 'authorization' };
    }
    for (let i = 0; i < dedicated.length; i++) {
      const entry = dedicated[i] as (typeof dedicated)[number];
      const value = Object.hasOwn(headers, entry.header) ? headers[entry.header] : undefined;
      if (value === undefined) continue;
      if (found !== undefined || value.includes(',')) return ambiguous;
      found = { ok: true, authenticator: entry.authenticator, credential: value, header: entry.header };
    }
    return found;
  };
}
