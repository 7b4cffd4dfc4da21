import { randomUUID } from 'node:crypto';
import type { Config } from './config/types.js';
import { createDecide, type Decide } from './decide.js';
import { type Admission, createAdmission } from './admission.js';
import { createAuditGate } from './audit-gate.js';
import { type CheckpointSigner, loadCheckpointSigner } from './decision-log/checkpoint-signer.js';
import { createDecisionLog, type DecisionLog } from './decision-log/create-decision-log.js';
import { destinationProblem } from './decision-log/destination-problem.js';
import { createRequestFacts } from './decision-log/request-facts.js';
import { openRelpDestination, relpSinkOptions } from './decision-log/open-relp-destination.js';
import { isRelpDestination } from './decision-log/relp-destination.js';
import { type LineStream, type LogSink, openLogSink, streamSink } from './decision-log/log-sink.js';
import { createCheckHandler } from './envoy/handle-check.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { createFunctionRegistry } from './functions/function-registry.js';
import type { Authenticator } from './identity/authenticator.js';
import { createAuthenticators } from './identity/create-authenticators.js';
import { type CompiledInput, createSchemaCompiler } from './payload/compile-input.js';
import { createPeerVerifier } from './transport/verify-peer.js';
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
}

export interface Callguard {
  readonly decide: Decide;
  /** Synchronous when the decision is (see Decide); await it either way. */
  readonly handleCheck: (request: Uint8Array) => Uint8Array | Promise<Uint8Array>;
  readonly log: DecisionLog;
  readonly admission: Admission;
  /** Stops key refreshes and closes the decision log (its last lines written). */
  close(): Promise<void>;
}

/**
 * Builds every part from a validated config: compiles each function schema once, loads keys,
 * indexes functions. Throws ConfigError listing at once every problem in function schemas, identity
 * keys and (with `decisionLog` overridden, as `check` does) the decision log's destination; serve
 * opens the log last, and refuses with that problem alone.
 */
export async function buildCallguard(config: Config, options: BuildOptions = {}): Promise<Callguard> {
  const { inputs, problems } = compileInputs(config);
  // When a stream stands in for the configured log (`callguard check`), judge the configured one without
  // opening it, so check refuses what serve would; serve itself opens it below, which decides.
  const relp = isRelpDestination(config.decisionLog.destination);
  const logProblem = options.decisionLog === undefined || relp ? undefined : destinationProblem(config.decisionLog.destination);
  if (logProblem !== undefined) problems.push({ file: config.file, path: '/decisionLog/destination', message: logProblem });
  // A RELP destination is judged by reading its PEM files; whether the receiver answers, only serve finds out.
  if (options.decisionLog !== undefined && relp) problems.push(...relpProblemsOf(config));
  const replay = await createReplayStore(config.replay, { configFile: config.file, ...(options.now ? { now: options.now } : {}), ...(options.onEvent ? { onEvent: options.onEvent } : {}) }).catch((err: unknown) => {
    throw err instanceof ConfigError ? new ConfigError([...problems, ...err.problems]) : err;
  });
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
    replay.close();
    throw new ConfigError(problems);
  }
  const closeAuthenticators = (): void => {
    for (const authenticator of authenticators) authenticator.close();
  };
  const newDecisionId = randomUUID;
  const decide = createDecide({
    config,
    registry: createFunctionRegistry(config.functions),
    authenticators,
    peers: createPeerVerifier(config.identity.spiffe.trustDomains),
    inputs,
    replay,
    newDecisionId,
    ...(options.now ? { now: options.now } : {}),
  });
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
    log = openDecisionLog(config, relpSink === undefined ? options : { ...options, decisionLogSink: relpSink });
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
  const audit = createAuditGate(log, createRequestFacts(config.functions));
  const handleCheck = createCheckHandler({ decide, audit, admission, headerPrefix: config.upstream.headerPrefix, newDecisionId });
  return {
    decide,
    handleCheck,
    log,
    admission,
    async close() {
      closeAuthenticators();
      replay.close();
      await log.close();
    },
  };
}

/** The configured decision log, or an override; a destination that still cannot be opened is a config problem (refuse to start). */
function openDecisionLog(config: Config, options: BuildOptions): DecisionLog {
  const settings = config.decisionLog;
  const signer = settings.checkpoint === undefined ? undefined : loadSigner(config, settings.checkpoint.keyFile);
  const sink = options.decisionLogSink ?? (options.decisionLog !== undefined ? streamSink(options.decisionLog) : openConfiguredSink(config));
  return createDecisionLog(sink, {
    durability: settings.durability,
    maxPendingBytes: settings.maxPendingBytes,
    maxWriteMs: settings.maxWriteMs,
    configDigest: config.digest,
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
    throw new ConfigError([{ file: config.file, path: '/decisionLog/destination', message: `cannot open ${JSON.stringify(destination)} for appending: ${why}` }]);
  }
}

function relpProblemsOf(config: Config): ConfigProblem[] {
  const judged = relpSinkOptions(config.decisionLog, config.file);
  return judged.ok ? [] : judged.problems;
}

function compileInputs(config: Config): { inputs: Map<string, CompiledInput>; problems: ConfigProblem[] } {
  const compiler = createSchemaCompiler();
  const inputs = new Map<string, CompiledInput>();
  const problems: ConfigProblem[] = [];
  config.functions.forEach((fn, i) => {
    if (fn.input === undefined) return;
    try {
      inputs.set(fn.name, compiler.compile(fn.input, config.file, `/functions/${i}/input/schema`));
    } catch (err) {
      if (err instanceof ConfigError) problems.push(...err.problems);
      else throw err;
    }
  });
  return { inputs, problems };
}
