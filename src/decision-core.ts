import { policyDigest } from './config/policy-digest.js';
import type { Config } from './config/types.js';
import { createDecide, type Decide, type DecideParts } from './decide.js';
import { createRequestFacts } from './decision-log/request-facts.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { createFunctionRegistry } from './functions/function-registry.js';
import type { Authenticator } from './identity/authenticator.js';
import { createAuthenticators } from './identity/create-authenticators.js';
import { sourceKinds } from './identity/identity-sources.js';
import { type ToolListing, type ToolListings, unlistedServers } from './payload/jsonrpc/list-tool-servers.js';
import type { PayloadInspector } from './payload/payload-inspector.js';
import { createFunctionPayloadCompiler } from './payload/payload-kinds.js';
import type { ReplayStore } from './replay/replay-store.js';
import { createPeerVerifier } from './transport/verify-peer.js';

/**
 * Everything one config decides with: built at start, rebuilt on reload (and, for MCP tool schemas a
 * retry listed, from the running one), while the log, admission and replay store stay.
 */
export interface DecisionCore {
  readonly config: Config;
  readonly digest: string;
  /** What the MCP servers listed for this core (tools without a schema file take theirs). */
  readonly listings: ToolListings;
  readonly unlisted: ReturnType<typeof unlistedServers>;
  /** Each function's compiled payload inspector. */
  readonly inputs: ReadonlyMap<string, PayloadInspector>;
  readonly decide: Decide;
  readonly facts: ReturnType<typeof createRequestFacts>;
  readonly authenticators: readonly Authenticator[];
}

/** What a core needs besides its config: shared by every core of one process. */
export interface CoreDeps {
  readonly replay: ReplayStore;
  readonly newDecisionId: () => string;
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
  readonly onEvent?: (event: { level: 'warn' | 'info'; msg: string; issuer: string }) => void;
}

/**
 * Compiles every function's payload inspector (its `input`, or its `mcp` endpoint, with the schemas its
 * server listed) once, or only those of the functions in `only`; problems are listed, not thrown.
 */
export function compileInputs(
  config: Config,
  listings?: ToolListings,
  only?: ReadonlySet<string>,
): { inputs: Map<string, PayloadInspector>; problems: ConfigProblem[] } {
  const compile = createFunctionPayloadCompiler(config.file, sourceKinds(config.identity), listings);
  const inputs = new Map<string, PayloadInspector>();
  const problems: ConfigProblem[] = [];
  config.functions.forEach((fn, i) => {
    if (only !== undefined && !only.has(fn.name)) return;
    try {
      const inspector = compile(fn, `/functions/${i}`);
      if (inspector !== undefined) inputs.set(fn.name, inspector);
    } catch (err) {
      if (err instanceof ConfigError) problems.push(...err.problems);
      else throw err;
    }
  });
  return { inputs, problems };
}

/** Identity sources and the decide function for `config`; throws ConfigError with `problems` and any of its own. */
export async function buildCore(
  config: Config,
  listings: ToolListings,
  inputs: ReadonlyMap<string, PayloadInspector>,
  problems: ConfigProblem[],
  deps: CoreDeps,
): Promise<DecisionCore> {
  let authenticators: Authenticator[] | undefined;
  try {
    authenticators = await createAuthenticators(config, {
      replay: deps.replay,
      ...(deps.now ? { now: deps.now } : {}),
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
      ...(deps.onEvent ? { onEvent: deps.onEvent } : {}),
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  if (authenticators === undefined || problems.length > 0) {
    for (const authenticator of authenticators ?? []) authenticator.close();
    throw new ConfigError(problems);
  }
  return assemble(config, listings, inputs, authenticators, createRequestFacts(config.functions), deps);
}

/**
 * The running core with the MCP tool schemas a retry has now listed for function `name`: only that
 * function is compiled again; every other inspector, the identity sources (keys as loaded) and the
 * routes are the running core's, so nothing an operator has not reloaded is read anew. Throws
 * ConfigError when the listed schemas cannot be used.
 */
export function withListing(core: DecisionCore, name: string, listing: ToolListing, deps: CoreDeps): DecisionCore {
  const listings = new Map(core.listings).set(name, listing);
  const compiled = compileInputs(core.config, listings, new Set([name]));
  if (compiled.problems.length > 0) throw new ConfigError(compiled.problems);
  const inputs = new Map(core.inputs);
  for (const [fn, inspector] of compiled.inputs) inputs.set(fn, inspector);
  return assemble(core.config, listings, inputs, core.authenticators, core.facts, deps);
}

function assemble(
  config: Config,
  listings: ToolListings,
  inputs: ReadonlyMap<string, PayloadInspector>,
  authenticators: readonly Authenticator[],
  facts: DecisionCore['facts'],
  deps: CoreDeps,
): DecisionCore {
  const parts = configParts(config, inputs);
  const { replay, newDecisionId } = deps;
  const decide = createDecide({ ...parts, authenticators, replay, newDecisionId, ...(deps.now ? { now: deps.now } : {}) });
  return { config, digest: parts.policyDigest, listings, unlisted: unlistedServers(listings), inputs, decide, facts, authenticators };
}

/**
 * The parts of {@link createDecide} that follow from the config and its compiled schemas alone; the
 * server adds the identity sources, the single-use store, ids and the clock (as `callguard test` does its own).
 */
export function configParts(
  config: Config,
  inputs: ReadonlyMap<string, PayloadInspector>,
): Pick<DecideParts, 'config' | 'registry' | 'peers' | 'inputs' | 'policyDigest'> & { readonly policyDigest: string } {
  return {
    config,
    registry: createFunctionRegistry(config.functions),
    peers: createPeerVerifier(config.identity.spiffe.trustDomains),
    inputs,
    policyDigest: policyDigest(config.digest, inputs),
  };
}

/** Adds the core's credential-cache counts to `totals`, by credential kind. */
export function addCacheStats(totals: Map<string, { hits: number; misses: number }>, core: DecisionCore): void {
  for (const a of core.authenticators) {
    const stats = a.cacheStats?.();
    if (stats === undefined) continue;
    const t = totals.get(a.kind) ?? { hits: 0, misses: 0 };
    totals.set(a.kind, { hits: t.hits + stats.hits, misses: t.misses + stats.misses });
  }
}

/** Stops the core's key refreshes, except those of authenticators a newer core shares (`keep`). */
export function closeCore(core: DecisionCore, keep: readonly Authenticator[] = []): void {
  for (const authenticator of core.authenticators) if (!keep.includes(authenticator)) authenticator.close();
}

/** Names of the core's remote key sources still without a first fetch after `waitMs` (readiness signal: their status, polled). */
export async function untilKeysFetched(core: DecisionCore, waitMs: number): Promise<string[]> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const missing = core.authenticators
      .flatMap((a) => a.keySources?.() ?? [])
      .filter((k) => !k.loaded)
      .map((k) => k.name);
    if (missing.length === 0 || Date.now() >= deadline) return missing;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
