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
  /**
   * Why no rule matched, for the decision log only (a denial's cold path): per rule, the first condition
   * that failed, naming sources and claims but never a value the caller sent.
   */
  explain(caller: Caller): string;
}

/** Identity source name (issuer entry, SAML IdP, key store) → the kind of credential it verifies. */
export type SourceKinds = ReadonlyMap<string, CredentialKind>;

type Matcher = (caller: Caller) => boolean;

interface CompiledRule {
  readonly matches: Matcher;
  /** The first failed condition, or undefined when the rule matches. */
  readonly mismatch: (caller: Caller) => string | undefined;
}

/** Compiles a function's rules; rule sources are known to exist (checked when the config loads). */
export function compilePolicy(fn: FunctionConfig, sources: SourceKinds): Policy {
  const rules = fn.allow.map(compileRule);
  const matchers = rules.map((rule) => rule.matches);
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
    explain(caller) {
      const granted = caller.credential?.kind === 'apiKey' ? caller.credential.functions : undefined;
      if (granted !== undefined && !granted.includes(fn.name)) return `the API key is limited to other functions`;
      return rules.map((rule, i) => `rule ${i}: ${rule.mismatch(caller) ?? 'matches'}`).join('; ');
    },
  };
}

function compileRule(rule: AllowRule): CompiledRule {
  if ('spiffeIds' in rule) {
    const ids = new Set(rule.spiffeIds);
    return {
      matches: (caller) => caller.peer !== undefined && ids.has(caller.peer.spiffeId),
      mismatch: (caller) => (caller.peer === undefined ? 'no mTLS peer' : ids.has(caller.peer.spiffeId) ? undefined : 'SPIFFE ID not listed'),
    };
  }
  const source = rule.issuer;
  const subjects = rule.subjects === undefined ? undefined : new Set(rule.subjects);
  const groups = rule.groups === undefined ? undefined : new Set(rule.groups);
  const names = Object.keys(rule.claims ?? {});
  const claims = Object.entries(rule.claims ?? {}).map(([name, expected]) => compileClaim(name, expected));
  const who = subjects !== undefined || groups !== undefined;
  const isWho = (principal: CredentialPrincipal): boolean =>
    !who || subjects?.has(principal.subject) === true || (groups !== undefined && principal.groups.some((g) => groups.has(g)));
  return {
    matches(caller) {
      const principal = caller.credential;
      if (principal === undefined || principal.source !== source) return false;
      if (!isWho(principal)) return false;
      for (let i = 0; i < claims.length; i++) if (!(claims[i] as (p: CredentialPrincipal) => boolean)(principal)) return false;
      return true;
    },
    mismatch(caller) {
      const principal = caller.credential;
      if (principal === undefined) return `no credential from ${source}`;
      if (principal.source !== source) return `credential from ${principal.source}, not ${source}`;
      if (!isWho(principal)) return 'subject and groups not listed';
      const failed = names.filter((_, i) => !(claims[i] as (p: CredentialPrincipal) => boolean)(principal));
      return failed.length === 0 ? undefined : `claims ${failed.map((n) => JSON.stringify(n)).join(', ')} do not match`;
    },
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
