import type { AllowRule, ClaimValue, FunctionConfig } from '../config/types.js';
import { claimReader } from '../identity/read-claim.js';
import type { Caller, CredentialKind, CredentialPrincipal } from '../principal.js';

/** Who may call one function, compiled once from its `allow` rules. */
export interface Policy {
  /** Default deny: true only when some rule matches the caller's credential or its mTLS peer. */
  permits(caller: Caller): boolean;
  /**
   * Whether some rule names an identity source of this kind. A credential of any other kind is
   * refused before it is verified or looked up: an API key works only where a rule names the key store.
   */
  accepts(kind: CredentialKind): boolean;
}

/** Identity source name (issuer entry, SAML IdP, key store) → the kind of credential it verifies. */
export type SourceKinds = ReadonlyMap<string, CredentialKind>;

type Matcher = (caller: Caller) => boolean;

/** Compiles a function's rules; rule sources are known to exist (checked when the config loads). */
export function compilePolicy(fn: FunctionConfig, sources: SourceKinds): Policy {
  const matchers = fn.allow.map(compileRule);
  const kinds = new Set<CredentialKind>();
  for (const rule of fn.allow) {
    const kind = 'spiffeIds' in rule ? 'mtls' : sources.get(rule.issuer);
    if (kind !== undefined) kinds.add(kind);
  }
  return {
    permits(caller) {
      const granted = caller.credential?.kind === 'apiKey' ? caller.credential.functions : undefined;
      // A key restricted to some functions never reaches others, whatever the rules say.
      if (granted !== undefined && !granted.includes(fn.name)) return false;
      for (let i = 0; i < matchers.length; i++) if ((matchers[i] as Matcher)(caller)) return true;
      return false;
    },
    accepts: (kind) => kinds.has(kind),
  };
}

function compileRule(rule: AllowRule): Matcher {
  if ('spiffeIds' in rule) {
    const ids = new Set(rule.spiffeIds);
    return (caller) => caller.peer !== undefined && ids.has(caller.peer.spiffeId);
  }
  const source = rule.issuer;
  const subjects = rule.subjects === undefined ? undefined : new Set(rule.subjects);
  const groups = rule.groups === undefined ? undefined : new Set(rule.groups);
  const claims = Object.entries(rule.claims ?? {}).map(([name, expected]) => compileClaim(name, expected));
  const who = subjects !== undefined || groups !== undefined;
  return (caller) => {
    const principal = caller.credential;
    if (principal === undefined || principal.source !== source) return false;
    if (who && !(subjects?.has(principal.subject) || (groups !== undefined && principal.groups.some((g) => groups.has(g))))) return false;
    for (let i = 0; i < claims.length; i++) if (!(claims[i] as (p: CredentialPrincipal) => boolean)(principal)) return false;
    return true;
  };
}

/**
 * One claim condition: the claim (a name or a JSON pointer) equals the value, or one of the listed
 * values; an array claim matches when any of its members does. Types are compared strictly
 * (`"true"` is not `true`): claims are matched as the provider sends them.
 */
function compileClaim(name: string, expected: ClaimValue | readonly ClaimValue[]): (principal: CredentialPrincipal) => boolean {
  const read = claimReader(name);
  const accepted = new Set<unknown>(Array.isArray(expected) ? expected : [expected]);
  return (principal) => {
    const value = read(principal.attributes);
    if (Array.isArray(value)) return value.some((member) => accepted.has(member));
    return value !== undefined && value !== null && typeof value !== 'object' && accepted.has(value);
  };
}
