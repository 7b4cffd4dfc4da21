import { randomUUID } from 'node:crypto';
import { type Admission, createAdmission } from './admission.js';
import { createAuditGate } from './audit-gate.js';
import { policyDigest } from './config/policy-digest.js';
import type { Config } from './config/types.js';
import { createDecide, type Decide, type DecideParts } from './decide.js';
import { type CheckpointSigner, loadCheckpointSigner } from './decision-log/checkpoint-signer.js';
import { createDecisionLog, type DecisionLog } from './decision-log/create-decision-log.js';
import { destinationProblem } from './decision-log/destination-problem.js';
import { type LineStream, type LogSink, openLogSink, streamSink } from './decision-log/log-sink.js';
import { openRelpDestination, relpSinkOptions } from './decision-log/open-relp-destination.js';
import { isRelpDestination } from './decision-log/relp-destination.js';
import { createRequestFacts } from './decision-log/request-facts.js';
import type { DecisionMeter } from './decision-meter.js';
import { createCheckHandler } from './envoy/handle-check.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { createFunctionRegistry } from './functions/function-registry.js';
import type { Authenticator } from './identity/authenticator.js';
import { createAuthenticators } from './identity/create-authenticators.js';
import { sourceKinds } from './identity/identity-sources.js';
import type { KeySourceStatus } from './identity/key-source-status.js';
import { listToolServers, type ToolListings, type ToolServerStatus, unlistedProblems, unlistedServers } from './payload/jsonrpc/list-tool-servers.js';
import type { PayloadInspector } from './payload/payload-inspector.js';
import { createFunctionPayloadCompiler } from './payload/payload-kinds.js';
import { restartOnlyChanges } from './reload/restart-only.js';
import { createReplayStore } from './replay/create-replay-store.js';
import type { ReplayStore } from './replay/replay-store.js';
import { createPeerVerifier } from './transport/verify-peer.js';

export interface BuildOptions {
  /** Overrides `config.decisionLog.destination` (tests pass an in-memory stream, `check` a discarding one). */
  readonly decisionLog?: LineStream;
  /** Overrides the destination with a sink (tests that need a failing or slow one). */
  readonly decisionLogSink?: LogSink;
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
  readonly onEvent?: (event: { level: 'warn' | 'info'; msg: string; issuer: string }) => void;
  /** First retry of a failed decision-log sink (tests shorten it). */
  readonly decisionLogRetryMs?: number;
  /** Counts every answered call (the admin listener's metrics). */
  readonly meter?: DecisionMeter;
  /** How long a reload waits for the first key fetch of its remote key sources (default 10 s). */
  readonly reloadKeyWaitMs?: number;
}

export interface Callguard {
  readonly decide: Decide;
  /** Synchronous when the decision is (see Decide); await it either way. */
  readonly handleCheck: (request: Uint8Array) => Uint8Array | Promise<Uint8Array>;
  readonly log: DecisionLog;
  readonly admission: Admission;
  /** Every remote key source (JWKS and SAML metadata URLs), now: readiness and metrics read these. */
  keySources(): KeySourceStatus[];
  /** Every function whose tool schemas its MCP server lists, now: readiness and metrics read these. */
  toolServers(): ToolServerStatus[];
  /** Hits and misses of each cache of verified credentials, by credential kind. */
  credentialCaches(): { readonly kind: string; readonly hits: number; readonly misses: number }[];
  /** The digest of the config and schemas deciding calls now (the decision lines' `config`). */
  policyDigest(): string;
  /**
   * Builds everything `next` decides with (schemas, identity sources and their first key fetch), then
   * swaps it in: a call already deciding finishes on the config it began with. Throws ConfigError when
   * `next` is invalid or changes a restart-only section; the running config then keeps serving.
   */
  reload(next: Config): Promise<ReloadResult>;
  /** Stops key refreshes and closes the decision log (its last lines written). */
  close(): Promise<void>;
}

export interface ReloadResult {
  readonly digest: string;
  readonly functions: number;
  /** False when the file and schemas were unchanged: the running config goes on, no new log line. */
  readonly changed: boolean;
}

/**
 * Builds every part from a validated config: compiles each function schema once, loads keys,
 * indexes functions. Throws ConfigError listing at once every problem in function schemas, identity
 * keys and (with `decisionLog` overridden, as `check` does) the decision log's destination; serve
 * opens the log last, and refuses with that problem alone.
 */
export async function buildCallguard(config: Config, options: BuildOptions = {}): Promise<Callguard> {
  // An MCP server that cannot be listed at start does not stop it: its tools are refused until a retry lists them.
  const listings = await listToolServers(config);
  for (const u of unlistedServers(listings)) {
    options.onEvent?.({
      level: 'warn',
      msg: `function "${u.function}": cannot list the tools of ${u.why}; its tools without a schema file are refused (ERR_MCP_TOOLS_UNAVAILABLE) until a retry lists them`,
      issuer: '',
    });
  }
  const { inputs, problems } = compileInputs(config, listings);
  // When a stream stands in for the configured log (`callguard check`), judge the configured one without
  // opening it, so check refuses what serve would; serve itself opens it below, which decides.
  const relp = isRelpDestination(config.decisionLog.destination);
  const logProblem = options.decisionLog === undefined || relp ? undefined : destinationProblem(config.decisionLog.destination);
  if (logProblem !== undefined) problems.push({ file: config.file, path: '/decisionLog/destination', message: logProblem });
  // A RELP destination is judged by reading its PEM files; whether the receiver answers, only serve finds out.
  if (options.decisionLog !== undefined && relp) problems.push(...relpProblemsOf(config));
  const replay = await createReplayStore(config.replay, {
    configFile: config.file,
    ...(options.now ? { now: options.now } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  }).catch((err: unknown) => {
    throw err instanceof ConfigError ? new ConfigError([...problems, ...err.problems]) : err;
  });
  const newDecisionId = randomUUID;
  let core: Core;
  try {
    core = await buildCore(config, listings, inputs, problems, replay, newDecisionId, options);
  } catch (err) {
    replay.close();
    throw err;
  }
  const closeAuthenticators = (): void => closeCore(core);
  let relpSink: LogSink | undefined;
  if (relp && options.decisionLog === undefined && options.decisionLogSink === undefined) {
    try {
      // Connected before anything runs: a receiver that cannot be reached stops start-up (a ConfigError naming it).
      relpSink = await openRelpDestination(config.decisionLog, config.file);
    } catch (err) {
      closeAuthenticators();
      replay.close();
      throw err;
    }
  }
  let log: DecisionLog;
  try {
    log = openDecisionLog(config, core.digest, relpSink === undefined ? options : { ...options, decisionLogSink: relpSink });
  } catch (err) {
    // E.g. the checkpoint key cannot be loaded: nothing opened may keep the process alive while it refuses to start.
    relpSink?.close();
    closeAuthenticators();
    replay.close();
    throw err;
  }
  const admission = createAdmission({
    maxInFlight: config.server.maxInFlight,
    log,
    onRefused: ({ code, count, inFlight }) =>
      options.onEvent?.({ level: 'warn', msg: `refused ${count} calls since the last report (${code}; ${inFlight} in flight)`, issuer: '' }),
  });
  const retiring = new Set<Core>();
  // Credential-cache counts of cores retired by reloads (the metrics are counters over the process's life).
  const carried = new Map<string, { hits: number; misses: number }>();
  // A call is described by the routes of the config that decided it (a retiring core's, if it began before a reload).
  const audit = createAuditGate(log, (policy) => {
    if (policy === undefined || policy === core.digest) return core.facts;
    for (const old of retiring) if (old.digest === policy) return old.facts;
    return core.facts;
  });
  // Each call decides on the core current when it arrives and keeps it to the end (a reload swaps `core`).
  const decide: Decide = (attempt) => core.decide(attempt);
  let running = config;
  let reloading: Promise<unknown> = Promise.resolve();
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  // `listed`: a retry's listings, when it found every server up (the log line then says so).
  const reload = async (next: Config, listed?: ToolListings): Promise<ReloadResult> => {
    const restart = restartOnlyChanges(running, next);
    if (restart.length > 0) throw new ConfigError(restart);
    // A reload needs every listing: one that fails keeps the running config (as an unfetched key source does).
    const listings = listed ?? (await listToolServers(next));
    const unlisted = unlistedProblems(next, listings, '; the running config keeps serving');
    const compiled = compileInputs(next, listings);
    const fresh = await buildCore(next, listings, compiled.inputs, [...unlisted, ...compiled.problems], replay, newDecisionId, options);
    const unfetched = await untilKeysFetched(fresh, options.reloadKeyWaitMs ?? 10_000);
    if (closed || unfetched.length > 0) {
      closeCore(fresh);
      if (closed) throw new Error('callguard closed during the reload');
      throw new ConfigError(
        unfetched.map((name) => ({
          file: next.file,
          path: '/identity',
          message: `${name}: signing keys not fetched within the reload's wait; the running config keeps serving`,
        })),
      );
    }
    // Swapped even when the config file and schemas are unchanged: key files (jwksFile, SAML metadataFile)
    // are read anew, so SIGHUP after replacing one applies it. The digest, and the log line, only change
    // with the config and schemas.
    const old = core;
    const changed = fresh.digest !== old.digest;
    core = fresh;
    running = next;
    // Calls that began on the old core may still be verifying a token: its key refreshes stop a little later.
    retiring.add(old);
    setTimeout(() => {
      retiring.delete(old);
      addCacheStats(carried, old);
      closeCore(old);
    }, RETIRE_AFTER_MS).unref();
    if (changed) log.noteConfig(fresh.digest, listed === undefined ? 'reload' : 'mcp-tools-listed');
    // Every server is listed now (a reload refuses otherwise): nothing left to retry.
    clearTimeout(retryTimer);
    retryTimer = undefined;
    return { digest: fresh.digest, functions: next.functions.length, changed };
  };
  // One at a time, in order: two SIGHUPs in a row apply the file as it is at the second.
  const serialized = <T>(step: () => Promise<T>): Promise<T> => {
    const result = reloading.then(step);
    reloading = result.catch(() => undefined);
    return result;
  };
  // Start-up left servers unlisted: list them again (backing off), and once all answer, rebuild the same
  // config with their schemas, as a reload does. An operator's reload in between supersedes this.
  const retryListing = (delayMs: number): void => {
    retryTimer = setTimeout(() => {
      const target = running;
      void listToolServers(target).then(async (listings) => {
        if (closed || running !== target) return;
        const failed = unlistedServers(listings);
        const next = Math.min(delayMs * 2, MAX_LISTING_RETRY_MS);
        if (failed.length > 0) return retryListing(next);
        try {
          const result = await serialized(() => (running === target ? reload(target, listings) : Promise.resolve(undefined)));
          if (result !== undefined) {
            const names = [...listings.keys()].map((name) => `"${name}"`).join(', ');
            options.onEvent?.({ level: 'info', msg: `listed the tools of ${names}: their tools are callable (config ${result.digest})`, issuer: '' });
          }
        } catch (err) {
          const why = err instanceof ConfigError ? err.problems.map((p) => `${p.path}: ${p.message}`).join('; ') : String(err);
          options.onEvent?.({ level: 'warn', msg: `listed the MCP tools again, but the config cannot be rebuilt: ${why}`, issuer: '' });
          if (!closed && running === target) retryListing(next);
        }
      });
    }, delayMs);
    retryTimer.unref();
  };
  const firstUnlisted = core.unlisted;
  if (firstUnlisted.length > 0) {
    retryListing(Math.min(...firstUnlisted.map((u) => config.functions.find((fn) => fn.name === u.function)?.mcp?.server?.retryMs ?? 1000)));
  }
  const handleCheck = createCheckHandler({
    decide,
    audit,
    admission,
    headerPrefix: config.upstream.headerPrefix,
    newDecisionId,
    ...(options.meter !== undefined ? { meter: options.meter } : {}),
  });
  return {
    decide,
    handleCheck,
    log,
    admission,
    keySources: () => core.authenticators.flatMap((a) => a.keySources?.() ?? []),
    toolServers: () => [...core.listings].map(([name, l]) => ({ function: name, url: l.url, listed: l.ok, ...(l.ok ? {} : { why: l.why }) })),
    credentialCaches: () => {
      // Counters over the process's life: a reload's fresh caches add to what the retired ones counted.
      const totals = new Map(carried);
      for (const c of [...retiring, core]) addCacheStats(totals, c);
      return [...totals].map(([kind, t]) => ({ kind, ...t }));
    },
    policyDigest: () => core.digest,
    reload(next) {
      return serialized(() => reload(next));
    },
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      closeAuthenticators();
      for (const old of retiring) closeCore(old);
      retiring.clear();
      replay.close();
      await log.close();
    },
  };
}

/** The configured decision log, or an override; a destination that still cannot be opened is a config problem (refuse to start). */
function openDecisionLog(config: Config, policyDigest: string, options: BuildOptions): DecisionLog {
  const settings = config.decisionLog;
  const signer = settings.checkpoint === undefined ? undefined : loadSigner(config, settings.checkpoint.keyFile);
  const sink = options.decisionLogSink ?? (options.decisionLog !== undefined ? streamSink(options.decisionLog) : openConfiguredSink(config));
  return createDecisionLog(sink, {
    durability: settings.durability,
    maxPendingBytes: settings.maxPendingBytes,
    maxWriteMs: settings.maxWriteMs,
    configDigest: policyDigest,
    ...(settings.rotate !== undefined ? { rotate: settings.rotate } : {}),
    ...(signer !== undefined && settings.checkpoint !== undefined
      ? { checkpoint: { signer, everyLines: settings.checkpoint.everyLines, everySeconds: settings.checkpoint.everySeconds } }
      : {}),
    ...(options.decisionLogRetryMs !== undefined ? { retryMs: options.decisionLogRetryMs } : {}),
    onStateChange: ({ healthy, msg }) => options.onEvent?.({ level: healthy ? 'info' : 'warn', msg, issuer: '' }),
  });
}

function loadSigner(config: Config, keyFile: string): CheckpointSigner {
  try {
    return loadCheckpointSigner(keyFile);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new ConfigError([{ file: config.file, path: '/decisionLog/checkpoint/keyFile', message: `cannot load ${JSON.stringify(keyFile)}: ${why}` }]);
  }
}

function openConfiguredSink(config: Config): LogSink {
  const { destination, durability } = config.decisionLog;
  try {
    return openLogSink(destination, { fsync: durability === 'fsync' });
  } catch (err) {
    // The system's message names the call and the path that failed, e.g. "EEXIST: file already exists, mkdir '/var/log/x'".
    const why = err instanceof Error ? err.message : String(err);
    throw new ConfigError([
      { file: config.file, path: '/decisionLog/destination', message: `cannot open ${JSON.stringify(destination)} for appending: ${why}` },
    ]);
  }
}

function relpProblemsOf(config: Config): ConfigProblem[] {
  const judged = relpSinkOptions(config.decisionLog, config.file);
  return judged.ok ? [] : judged.problems;
}

/**
 * Compiles every function's payload inspector (its `input`, or its `mcp` endpoint, with the schemas its
 * server listed) once; problems are listed, not thrown.
 */
export function compileInputs(config: Config, listings?: ToolListings): { inputs: Map<string, PayloadInspector>; problems: ConfigProblem[] } {
  const compile = createFunctionPayloadCompiler(config.file, sourceKinds(config.identity), listings);
  const inputs = new Map<string, PayloadInspector>();
  const problems: ConfigProblem[] = [];
  config.functions.forEach((fn, i) => {
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

/** Everything one config decides with: rebuilt on reload, while the log, admission and replay store stay. */
interface Core {
  readonly digest: string;
  /** What the MCP servers listed for this core (tools without a schema file take theirs). */
  readonly listings: ToolListings;
  readonly unlisted: ReturnType<typeof unlistedServers>;
  readonly decide: Decide;
  readonly facts: ReturnType<typeof createRequestFacts>;
  readonly authenticators: readonly Authenticator[];
}

/** A reload retires the old core's authenticators (key refreshes) this long after the swap. */
const RETIRE_AFTER_MS = 30_000;
/** The longest wait between two listings of MCP servers that failed at start. */
const MAX_LISTING_RETRY_MS = 60_000;

/** Identity sources and the decide function for `config`; throws ConfigError with `problems` and any of its own. */
async function buildCore(
  config: Config,
  listings: ToolListings,
  inputs: Map<string, PayloadInspector>,
  problems: ConfigProblem[],
  replay: ReplayStore,
  newDecisionId: () => string,
  options: BuildOptions,
): Promise<Core> {
  let authenticators: Authenticator[] | undefined;
  try {
    authenticators = await createAuthenticators(config, {
      replay,
      ...(options.now ? { now: options.now } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  if (authenticators === undefined || problems.length > 0) {
    for (const authenticator of authenticators ?? []) authenticator.close();
    throw new ConfigError(problems);
  }
  const parts = configParts(config, inputs);
  const decide = createDecide({ ...parts, authenticators, replay, newDecisionId, ...(options.now ? { now: options.now } : {}) });
  return {
    digest: parts.policyDigest,
    listings,
    unlisted: unlistedServers(listings),
    decide,
    facts: createRequestFacts(config.functions),
    authenticators,
  };
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

function addCacheStats(totals: Map<string, { hits: number; misses: number }>, core: Core): void {
  for (const a of core.authenticators) {
    const stats = a.cacheStats?.();
    if (stats === undefined) continue;
    const t = totals.get(a.kind) ?? { hits: 0, misses: 0 };
    totals.set(a.kind, { hits: t.hits + stats.hits, misses: t.misses + stats.misses });
  }
}

function closeCore(core: Core): void {
  for (const authenticator of core.authenticators) authenticator.close();
}

/** Names of the core's remote key sources still without a first fetch after `waitMs` (readiness signal: their status, polled). */
async function untilKeysFetched(core: Core, waitMs: number): Promise<string[]> {
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
