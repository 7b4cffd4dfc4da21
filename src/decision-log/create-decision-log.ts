import { createIsoClock, formatDecisionLine, formatEventLine } from './decision-line.js';
import type { DecisionRecord } from './decision-record.js';
import type { LogSink } from './log-sink.js';

/**
 * - `written`: a call is answered only once its line was accepted by the OS (write(2) returned).
 * - `fsync`: as `written`, once the batch holding it was also fsync'ed.
 * - `buffered`: answered at once; lines wait in memory (at most `maxPendingBytes`) and are lost if
 *   the process dies or the sink fails before they are written.
 */
export type Durability = 'written' | 'fsync' | 'buffered';

export interface DecisionLogOptions {
  readonly durability: Durability;
  /** Bytes of lines waiting for the sink; past this, new calls are refused (not queued, not dropped). */
  readonly maxPendingBytes: number;
  /** A write in flight longer than this marks the sink stalled: new calls are refused until it completes. */
  readonly maxWriteMs: number;
  /** Health changes, for the operational log: the sink failed, stalled or recovered. */
  readonly onStateChange?: (event: { readonly healthy: boolean; readonly msg: string }) => void;
  readonly now?: () => number;
  /** First retry of a failed sink; doubles up to 2 s. */
  readonly retryMs?: number;
}

/** Called once per appended line in `written` / `fsync` mode: true once the line is durable, false if it was lost. */
export type Committed = (ok: boolean) => void;

export interface DecisionLogStats {
  readonly durability: Durability;
  readonly healthy: boolean;
  readonly pendingBytes: number;
  readonly linesWritten: number;
  /** Lines handed to a write that failed (they may be partly on disk); each is counted in a gap record. */
  readonly linesLost: number;
  readonly failures: number;
}

export interface DecisionLog {
  /** Whether a decision made now can be recorded: the sink works, is not stalled, and has room. */
  accepting(): boolean;
  /** True in `written` and `fsync` modes: `append` reports, through `committed`, when the line is durable. */
  readonly waits: boolean;
  /**
   * Appends the record's line. Returns false, calling nothing, when the log is not accepting.
   * In waiting modes `committed` is called exactly once later; in `buffered` it is never called.
   */
  append(record: DecisionRecord, committed?: Committed): boolean;
  /** Counts a call refused before any decision (overload, log unavailable): summarized in the log, never one line each. */
  noteRefused(code: string): void;
  /** False while the sink has failed or stalled; true again once it works. */
  healthy(): boolean;
  /** Why the sink is unhealthy, for the operational log. */
  readonly failure: string | undefined;
  stats(): DecisionLogStats;
  /** Reopen the destination before the next write (SIGHUP, after logrotate moved the file). */
  reopen(): void;
  /** Writes every pending line synchronously and closes the sink (shutdown; also done on process exit). */
  close(): void;
}

const RETRY_MAX_MS = 2000;
const SUMMARY_MS = 1000;

/**
 * The decision log: group commit over one sink. Lines appended while a write is in flight wait
 * for it and go out together in the next write, so under load one write(2) carries many lines
 * and, in `written` mode, answers many calls.
 *
 * Failure is a state, not an end: a failed write fails every line in it and every line waiting
 * behind it (their calls are denied, or already were), the log stops accepting, and a retry with
 * backoff writes a gap record (`msg: "decision-log-gap"`: when, why, how many lines were lost and
 * how many calls were refused meanwhile). Once that write succeeds the log accepts again. A write
 * in flight past `maxWriteMs` (a stopped reader, a hung disk) stops new calls the same way until
 * it completes. Calls refused without a decision are counted and summarized in one line a second.
 */
export function createDecisionLog(sink: LogSink, options: DecisionLogOptions): DecisionLog {
  const now = options.now ?? Date.now;
  const clock = createIsoClock(now);
  const waits = options.durability !== 'buffered';
  const retryFirst = options.retryMs ?? 100;

  let queue: string[] = [];
  let queueChars = 0;
  let waiters: Committed[] = [];
  let inFlight: { readonly started: number; readonly chars: number } | undefined;
  let scheduled = false;
  let failure: string | undefined;
  let failedAt = '';
  let stalled = false;
  let retryDelay = retryFirst;
  let retryTimer: NodeJS.Timeout | undefined;
  let refused = new Map<string, number>();
  let refusedSince = '';
  let linesWritten = 0;
  let linesLost = 0;
  let lostSinceGap = 0;
  let failures = 0;
  let closed = false;

  const notify = (healthy: boolean, msg: string): void => options.onStateChange?.({ healthy, msg });

  const pendingChars = (): number => queueChars + (inFlight?.chars ?? 0);

  const isStalled = (): boolean => {
    if (inFlight === undefined || now() - inFlight.started <= options.maxWriteMs) return false;
    if (!stalled) {
      stalled = true;
      notify(false, `decision log write pending for over ${options.maxWriteMs} ms (${sink.name}); refusing calls until it completes`);
    }
    return true;
  };

  const accepting = (): boolean => !closed && failure === undefined && pendingChars() < options.maxPendingBytes && !isStalled();

  const schedule = (): void => {
    if (scheduled || inFlight !== undefined || failure !== undefined) return;
    scheduled = true;
    // setImmediate: lines of every call decided in this turn of the event loop share the write.
    setImmediate(startWrite);
  };

  const startWrite = (): void => {
    scheduled = false;
    if (inFlight !== undefined || failure !== undefined || queue.length === 0) return;
    const lines = queue;
    const batch = waiters;
    const chars = queueChars;
    queue = [];
    waiters = [];
    queueChars = 0;
    inFlight = { started: now(), chars };
    sink.write(Buffer.from(lines.length === 1 ? (lines[0] as string) : lines.join(''), 'utf8'), (err, torn) => {
      if (err !== undefined) return finish(lines.length, batch, describe(err), torn);
      if (options.durability !== 'fsync') return finish(lines.length, batch, undefined, false);
      sink.sync((syncErr) => finish(lines.length, batch, syncErr === undefined ? undefined : `fsync: ${describe(syncErr)}`, false));
    });
  };

  const finish = (count: number, batch: Committed[], error: string | undefined, torn: boolean): void => {
    inFlight = undefined;
    if (error !== undefined) {
      fail(`decision log write to ${sink.name} failed: ${error}${torn ? ' (a line may be cut short)' : ''}`, count, batch);
      return;
    }
    linesWritten += count;
    if (stalled) {
      stalled = false;
      notify(true, `decision log write to ${sink.name} completed; accepting calls again`);
    }
    for (const done of batch) done(true);
    if (queue.length > 0) startWrite();
  };

  const fail = (why: string, lostInWrite: number, batch: Committed[]): void => {
    const lost = lostInWrite + queue.length;
    linesLost += lost;
    lostSinceGap += lost;
    failures++;
    const everyone = batch.concat(waiters);
    queue = [];
    waiters = [];
    queueChars = 0;
    stalled = false;
    failure = why;
    failedAt = clock();
    notify(false, `${why}; refusing calls until it works again`);
    for (const done of everyone) done(false);
    retryDelay = retryFirst;
    retryLater();
  };

  const retryLater = (): void => {
    if (closed) return;
    retryTimer = setTimeout(retry, retryDelay);
    retryTimer.unref();
    retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
  };

  /** Tries the sink again with the gap record; the first one written ends the failure. */
  const retry = (): void => {
    retryTimer = undefined;
    if (closed || failure === undefined) return;
    const gap = formatEventLine('error', clock(), 'decision-log-gap', {
      failure,
      since: failedAt,
      lost: lostSinceGap,
      refused: Object.fromEntries(refused),
    });
    inFlight = { started: now(), chars: gap.length };
    sink.write(Buffer.from(gap, 'utf8'), (err) => {
      inFlight = undefined;
      if (err !== undefined) {
        failure = `decision log write to ${sink.name} failed: ${describe(err)}`;
        retryLater();
        return;
      }
      linesWritten++;
      lostSinceGap = 0;
      refused = new Map();
      refusedSince = '';
      failure = undefined;
      notify(true, `decision log ${sink.name} works again; accepting calls`);
    });
  };

  /** Queues the `refused` summary line (counts since the last one), if there is anything to say. */
  const queueSummary = (): void => {
    if (refused.size === 0 || failure !== undefined || closed) return;
    const line = formatEventLine('warn', clock(), 'refused', { since: refusedSince, counts: Object.fromEntries(refused) });
    refused = new Map();
    refusedSince = '';
    queue.push(line);
    queueChars += line.length;
  };
  const summarize = setInterval(() => {
    queueSummary();
    if (queue.length > 0) schedule();
  }, SUMMARY_MS);
  summarize.unref();

  const writeAllNow = (): void => {
    if (queue.length === 0 || failure !== undefined) return;
    try {
      sink.writeSync(Buffer.from(queue.join(''), 'utf8'));
      linesWritten += queue.length;
      for (const done of waiters) done(true);
    } catch {
      for (const done of waiters) done(false);
    }
    queue = [];
    waiters = [];
    queueChars = 0;
  };
  const onExit = (): void => {
    queueSummary();
    writeAllNow();
  };
  exitHandlers.add(onExit);

  return {
    accepting,
    waits,
    append(record, committed) {
      if (!accepting()) return false;
      let line: string;
      try {
        line = formatDecisionLine(record, clock());
      } catch {
        // Not reachable with records from toDecisionRecord (plain data only); refused, so the caller denies.
        return false;
      }
      queue.push(line);
      queueChars += line.length;
      if (waits && committed !== undefined) waiters.push(committed);
      schedule();
      return true;
    },
    noteRefused(code) {
      if (refused.size === 0) refusedSince = clock();
      refused.set(code, (refused.get(code) ?? 0) + 1);
    },
    healthy: () => failure === undefined && !isStalled(),
    get failure() {
      return failure ?? (stalled ? `decision log write to ${sink.name} stalled` : undefined);
    },
    stats: () => ({
      durability: options.durability,
      healthy: failure === undefined && !stalled,
      pendingBytes: pendingChars(),
      linesWritten,
      linesLost,
      failures,
    }),
    reopen: () => sink.reopen(),
    close() {
      if (closed) return;
      queueSummary();
      writeAllNow();
      closed = true;
      exitHandlers.delete(onExit);
      clearInterval(summarize);
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      if (inFlight === undefined) sink.close();
    },
  };
}

function describe(err: NodeJS.ErrnoException): string {
  return err.code ?? err.message;
}

/** Logs not yet closed by their owner; one process `exit` listener writes what they still hold. */
const exitHandlers = new Set<() => void>();
process.once('exit', () => {
  for (const write of exitHandlers) write();
});
