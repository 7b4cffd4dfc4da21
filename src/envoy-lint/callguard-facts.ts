import type { Config, FunctionConfig } from '../config/types.js';

/** What the Envoy rules need to know of callguard's config. */
export interface CallguardFacts {
  readonly functions: readonly FunctionFacts[];
  /** Request headers callguard reads, lower case: Envoy must forward them in the Check. */
  readonly readHeaders: readonly { readonly header: string; readonly why: string }[];
}

export interface FunctionFacts {
  readonly name: string;
  readonly match?: { readonly method: string; readonly path: string };
  /** requireMtls, a SPIFFE ID rule or an mTLS-bound token: callguard needs the peer certificate. */
  readonly needsClientCertificate: boolean;
  readonly hasSchema: boolean;
}

/** Reduces a loaded config to the facts the rules use. */
export function toCallguardFacts(config: Config): CallguardFacts {
  const functions = config.functions.map(toFunctionFacts);
  const readHeaders = [...ALWAYS_READ];
  const apiKeyHeader = config.identity.apiKeys?.header;
  if (apiKeyHeader !== undefined) readHeaders.push({ header: apiKeyHeader.toLowerCase(), why: 'identity.apiKeys.header' });
  if (functions.some((fn) => fn.hasSchema)) {
    readHeaders.push({ header: 'content-type', why: 'read by the payload checks' }, { header: 'content-encoding', why: 'read by the payload checks' });
  }
  return { functions, readHeaders };
}

function toFunctionFacts(fn: FunctionConfig): FunctionFacts {
  // An MCP endpoint's tools have rules of their own, and its messages are bodies checked like any schema's.
  const rules = [...fn.allow, ...(fn.mcp?.tools.flatMap((tool) => tool.allow) ?? [])];
  const spiffe = rules.some((rule) => 'spiffeIds' in rule);
  return {
    name: fn.name,
    ...(fn.match !== undefined ? { match: { method: fn.match.method, path: fn.match.path } } : {}),
    needsClientCertificate: fn.requireMtls || spiffe || fn.senderConstrained === 'mtls' || fn.senderConstrained === 'either',
    hasSchema: fn.input !== undefined || fn.mcp !== undefined,
  };
}

/** Credential headers callguard reads whatever its config: tokens and assertions, DPoP proofs (always accepted). */
const ALWAYS_READ = [
  { header: 'authorization', why: 'bearer, DPoP and SAML credentials' },
  { header: 'dpop', why: 'DPoP proofs' },
];

/** Without `--callguard`: what callguard reads under any config. */
export const DEFAULT_FACTS: CallguardFacts = Object.freeze({ functions: [], readHeaders: ALWAYS_READ });
