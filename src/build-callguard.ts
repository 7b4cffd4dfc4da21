import { randomUUID } from 'node:crypto';
import type { Config } from './config/types.js';
import { createDecide, type Decide } from './decide.js';
import { type Admission, createAdmission } from './admission.js';
import { createAuditGate } from './audit-gate.js';
import { createDecisionLog, type DecisionLog } from './decision-log/create-decision-log.js';
import { destinationProblem } from './decision-log/destination-problem.js';
import { createRequestFacts } from './decision-log/request-facts.js';
import { type LineStream, type LogSink, openLogSink, streamSink } from './decision-log/log-sink.js';
import { createCheckHandler } from './envoy/handle-check.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { createFunctionRegistry } from './functions/function-registry.js';
import { createBearerVerifier } from './identity/verify-bearer.js';
import { type CompiledInput, createSchemaCompiler } from './payload/compile-input.js';
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
}

export interface Callguard {
  readonly decide: Decide;
  /** Synchronous when the decision is (see Decide); await it either way. */
  readonly handleCheck: (request: Uint8Array) => Uint8Array | Promise<Uint8Array>;
  readonly log: DecisionLog;
  readonly admission: Admission;
  close(): void;
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
  const logProblem = options.decisionLog === undefined ? undefined : destinationProblem(config.decisionLog.destination);
  if (logProblem !== undefined) problems.push({ file: config.file, path: '/decisionLog/destination', message: logProblem });
  let bearer: Awaited<ReturnType<typeof createBearerVerifier>> | undefined;
  try {
    bearer = await createBearerVerifier(config.identity, {
      configFile: config.file,
      ...(options.now ? { now: options.now } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  if (bearer === undefined || problems.length > 0) {
    bearer?.close();
    throw new ConfigError(problems);
  }
  const newDecisionId = randomUUID;
  const decide = createDecide({
    config,
    registry: createFunctionRegistry(config.functions),
    bearer,
    peers: createPeerVerifier(config.identity.spiffe.trustDomains),
    inputs,
    newDecisionId,
  });
  const log = openDecisionLog(config, options);
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
    close() {
      bearer.close();
      log.close();
    },
  };
}

/** The configured decision log, or an override; a destination that still cannot be opened is a config problem (refuse to start). */
function openDecisionLog(config: Config, options: BuildOptions): DecisionLog {
  const settings = config.decisionLog;
  const sink = options.decisionLogSink ?? (options.decisionLog !== undefined ? streamSink(options.decisionLog) : openConfiguredSink(config));
  return createDecisionLog(sink, {
    durability: settings.durability,
    maxPendingBytes: settings.maxPendingBytes,
    maxWriteMs: settings.maxWriteMs,
    ...(options.decisionLogRetryMs !== undefined ? { retryMs: options.decisionLogRetryMs } : {}),
    onStateChange: ({ healthy, msg }) => options.onEvent?.({ level: healthy ? 'info' : 'warn', msg, issuer: '' }),
  });
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
