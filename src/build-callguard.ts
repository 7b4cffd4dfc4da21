import { randomUUID } from 'node:crypto';
import { type Admission, createAdmission } from './admission.js';
import { createAuditGate } from './audit-gate.js';
import type { Config } from './config/types.js';
import type { Decide } from './decide.js';
import { addCacheStats, buildCore, type CoreDeps, closeCore, compileInputs, type DecisionCore, untilKeysFetched, withListing } from './decision-core.js';
import { type CheckpointSigner, loadCheckpointSigner } from './decision-log/checkpoint-signer.js';
import { createDecisionLog, type DecisionLog } from './decision-log/create-decision-log.js';
import { destinationProblem } from './decision-log/destination-problem.js';
import { type LineStream, type LogSink, openLogSink, streamSink } from './decision-log/log-sink.js';
import { openRelpDestination, relpSinkOptions } from './decision-log/open-relp-destination.js';
import { isRelpDestination } from './decision-log/relp-destination.js';
import type { DecisionMeter } from './decision-meter.js';
import { createCheckHandler } from './envoy/handle-check.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import type { KeySourceStatus } from './identity/key-source-status.js';
import {
  carryListings,
  listToolServers,
  type ToolListings,
  type ToolServerStatus,
  unlistedProblems,
  unlistedServers,
} from './payload/jsonrpc/list-tool-servers.js';
import { createToolListingRetry } from './payload/jsonrpc/tool-listing-retry.js';
import { restartOnlyChanges } from './reload/restart-only.js';
import { createReplayStore } from './replay/create-replay-store.js';

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
  const emit = (level: 'warn' | 'info', msg: string): void => {
    try {
      options.onEvent?.({ level, msg, issuer: '' });
    } catch {
      // An event sink that throws must not turn a background step into an unhandled rejection.
    }
  };
  // Ends any MCP listing in flight when callguard closes.
  const closing = new AbortController();
  // An MCP server that cannot be reached at start does not stop it (its tools are refused until a retry
  // lists them); TLS files it cannot read are config problems like any other.
  const listings = await listToolServers(config, { signal: closing.signal });
  for (const u of unlistedServers(listings).filter((u) => !u.config)) emit('warn', unlistedMessage(u));
  const { inputs, problems } = compileInputs(config, listings);
  problems.unshift(...unlistedProblems(config, listings));
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
  const deps: CoreDeps = {
    replay,
    newDecisionId: randomUUID,
    ...(options.now ? { now: options.now } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  };
  let core: DecisionCore;
  try {
    core = await buildCore(config, listings, inputs, problems, deps);
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
  const retiring = new Set<DecisionCore>();
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
  // Why each MCP server the running config lacks could not be listed, as of the latest attempt.
  const unlistedWhy = new Map(core.unlisted.map((u) => [u.function, u.why]));
  const reload = async (next: Config): Promise<ReloadResult> => {
    const restart = restartOnlyChanges(running, next);
    if (restart.length > 0) throw new ConfigError(restart);
    // A server that cannot be reached now keeps its last listing (same settings) or leaves its tools
    // refused until a retry lists them: a reload never waits on an MCP server to apply anything else.
    const listed = await listToolServers(next, { signal: closing.signal });
    if (closed) throw new Error('callguard closed during the reload');
    const { listings, carried: kept } = carryListings(next, listed, core.listings);
    const compiled = compileInputs(next, listings);
    const fresh = await buildCore(next, listings, compiled.inputs, [...unlistedProblems(next, listings), ...compiled.problems], deps);
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
    retire(old);
    if (changed) log.noteConfig(fresh.digest);
    for (const name of kept) {
      emit('warn', `function "${name}": cannot list the tools of ${unlistedWhyOf(listed, name)}; the tools it listed at the last load stay in force`);
    }
    unlistedWhy.clear();
    for (const u of fresh.unlisted) {
      unlistedWhy.set(u.function, u.why);
      emit('warn', unlistedMessage(u));
    }
    watchUnlisted(fresh);
    return { digest: fresh.digest, functions: next.functions.length, changed };
  };
  // Calls that began on the old core may still be verifying a token: its key refreshes stop a little later.
  const retireTimers = new Set<NodeJS.Timeout>();
  const retire = (old: DecisionCore): void => {
    retiring.add(old);
    const timer = setTimeout(() => {
      retireTimers.delete(timer);
      retiring.delete(old);
      addCacheStats(carried, old);
      closeCore(old);
    }, RETIRE_AFTER_MS);
    timer.unref();
    retireTimers.add(timer);
  };
  // One at a time, in order: two SIGHUPs in a row apply the file as it is at the second.
  const serialized = <T>(step: () => Promise<T>): Promise<T> => {
    const result = reloading.then(step);
    reloading = result.catch(() => undefined);
    return result;
  };
  // Lists again the servers the running core lacks; what now answers joins the running core (nothing else
  // is read anew). True while some server is still unlisted. A reload in between supersedes it.
  const relist = async (): Promise<boolean> => {
    const target = core;
    const waiting = new Set(target.unlisted.map((u) => u.function));
    const listings = await listToolServers(target.config, { signal: closing.signal, only: waiting });
    // A reload in between has its own listings (and retry); close ends it all.
    if (closed || core !== target) return false;
    const answered = new Map([...listings].filter(([, l]) => l.ok));
    for (const u of unlistedServers(listings)) {
      if (unlistedWhy.get(u.function) !== u.why) emit('warn', `function "${u.function}": still cannot list the tools of ${u.why}`);
      unlistedWhy.set(u.function, u.why);
    }
    if (answered.size === 0) return !closed;
    return serialized(async () => {
      if (closed || core !== target) return false;
      // One function at a time: a listing that cannot be used keeps only its own tools refused.
      let fresh = target;
      const used: string[] = [];
      for (const [name, listing] of answered) {
        try {
          fresh = withListing(fresh, name, listing, deps);
          used.push(name);
          unlistedWhy.delete(name);
        } catch (err) {
          const why = err instanceof ConfigError ? err.problems.map((p) => `${p.path}: ${p.message}`).join('; ') : String(err);
          const said = `listed, but cannot be used: ${why}`;
          if (unlistedWhy.get(name) !== said) {
            emit(
              'warn',
              `function "${name}": listed its MCP tools again, but cannot use them (they stay refused; fix the server or give them schema files): ${why}`,
            );
          }
          unlistedWhy.set(name, said);
        }
      }
      if (used.length > 0) {
        core = fresh;
        if (fresh.digest !== target.digest) log.noteConfig(fresh.digest, 'mcp-tools-listed');
        const names = used.map((name) => `"${name}"`).join(', ');
        emit('info', `listed the tools of ${names}: their tools are callable (config ${fresh.digest})`);
      }
      return fresh.unlisted.length > 0;
    });
  };
  const retry = createToolListingRetry(relist, (err) => emit('warn', `listing MCP tools again failed: ${String(err)}`));
  const watchUnlisted = (c: DecisionCore): void => {
    if (c.unlisted.length === 0) {
      retry.stop();
      return;
    }
    const retryMs = c.unlisted.map((u) => c.config.functions.find((fn) => fn.name === u.function)?.mcp?.server?.retryMs ?? 1000);
    retry.start(Math.min(...retryMs));
  };
  watchUnlisted(core);
  const handleCheck = createCheckHandler({
    decide,
    audit,
    admission,
    headerPrefix: config.upstream.headerPrefix,
    newDecisionId: deps.newDecisionId,
    ...(options.meter !== undefined ? { meter: options.meter } : {}),
  });
  return {
    decide,
    handleCheck,
    log,
    admission,
    keySources: () => core.authenticators.flatMap((a) => a.keySources?.() ?? []),
    toolServers: () =>
      [...core.listings].map(([name, l]) => {
        const why = l.ok ? undefined : (unlistedWhy.get(name) ?? l.why);
        return { function: name, url: l.url, listed: l.ok, ...(why !== undefined ? { why } : {}) };
      }),
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
      retry.stop();
      closing.abort();
      for (const timer of retireTimers) clearTimeout(timer);
      retireTimers.clear();
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

/** A reload retires the old core's authenticators (key refreshes) this long after the swap. */
const RETIRE_AFTER_MS = 30_000;

function unlistedMessage(u: { readonly function: string; readonly why: string }): string {
  return `function "${u.function}": cannot list the tools of ${u.why}; its tools without a schema file are refused (ERR_MCP_TOOLS_UNAVAILABLE) until a retry lists them`;
}

function unlistedWhyOf(listings: ToolListings, name: string): string {
  const listing = listings.get(name);
  return listing === undefined || listing.ok ? '' : listing.why;
}
