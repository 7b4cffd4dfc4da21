import type { DecisionLogStats, Durability } from './decision-log.js';
import type { FileSequence } from './file-sequence.js';
import type { ChainPosition } from './hash-chain.js';
import { lineHash } from './hash-chain.js';
import type { LogSink } from './log-sink.js';
import type { PendingQueue, Segment } from './pending-queue.js';
import type { RefusedCounts } from './refused-counts.js';

const RETRY_MAX_MS = 2000;

export interface LogWriterOptions {
  readonly sink: LogSink;
  readonly queue: PendingQueue;
  /** Queues the stall line; formats the stall and gap lines. */
  readonly lines: Pick<FileSequence, 'enqueue' | 'event'>;
  /** Said, and cleared, by the gap line. */
  readonly refused: RefusedCounts;
  readonly durability: Durability;
  readonly maxPendingBytes: number;
  readonly maxWriteMs: number;
  /** First retry of a failed sink; doubles up to 2 s. */
  readonly retryFirst: number;
  /** Where the chain of what is already written stops (the sink's tail, or the chain's start). */
  readonly resumed: ChainPosition & { readonly torn: boolean };
  readonly now: () => number;
  readonly clock: () => string;
  readonly notify: (healthy: boolean, msg: string) => void;
  readonly isClosed: () => boolean;
}

/**
 * Writes the queue to the sink, one segment a write (group commit), and keeps the log's health:
 * failures with retries and gap lines, stalls past `maxWriteMs`.
 */
export interface LogWriter {
  /** The sink works, is not stalled, and the pending lines leave room. */
  ready(): boolean;
  /** False while the sink has failed or stalled. */
  healthy(): boolean;
  /** The sink has failed (and a retry is pending). */
  failed(): boolean;
  /** Why the sink is unhealthy. */
  failure(): string | undefined;
  /** A write is under way, or lines wait that can still be written. */
  busy(): boolean;
  /** Starts a write in the next turn of the event loop, unless one is under way or scheduled. */
  schedule(): void;
  /** Writes what is queued, synchronously (shutdown, process exit). */
  writeAllNow(): void;
  stats(): DecisionLogStats;
  /** Clears the retry and stall timers (close). */
  stopTimers(): void;
}

/**
 * Failure is a state, not an end: a failed write fails every line in it and every line waiting
 * behind it (their calls are denied, or already were), the chain rewinds to the last line known to
 * be written, the log stops accepting, and a retry with backoff writes a gap line
 * (`decision-log-gap`: when, why, how many lines were lost and how many calls were refused
 * meanwhile). Once that write succeeds the log accepts again. A write in flight past `maxWriteMs`
 * (a stopped reader, a hung disk) stops new calls the same way until it completes.
 */
export function createLogWriter(options: LogWriterOptions): LogWriter {
  const { sink, queue, lines, refused, now, clock, notify, isClosed } = options;
  /** Chain position of the next line after what is known written. */
  let committed: ChainPosition = options.resumed;
  /** The write under way: when it started, its size, and its segment (none for a retry's gap line). */
  let inFlight: { readonly started: number; readonly chars: number; readonly segment?: Segment } | undefined;
  let stallTimer: NodeJS.Timeout | undefined;
  /** Calls answered as refused because their write stalled, and lines dropped behind it, since the stall began. */
  let stallDenied = 0;
  let stallLost = 0;
  let stalledSince = '';
  let scheduled = false;
  let failure: string | undefined;
  let failedAt = '';
  let tornTail = options.resumed.torn;
  let stalled = false;
  let retryDelay = options.retryFirst;
  let retryTimer: NodeJS.Timeout | undefined;
  let linesWritten = 0;
  let linesLost = 0;
  let lostSinceGap = 0;
  let failures = 0;
  let rotations = 0;

  const pendingChars = (): number => queue.chars + (inFlight?.chars ?? 0);

  const isStalled = (): boolean => {
    if (inFlight === undefined || now() - inFlight.started <= options.maxWriteMs) return false;
    if (!stalled) onStall();
    return true;
  };
  /**
   * A write pending past `maxWriteMs`: the calls waiting on it are answered now, as refused (their
   * lines may still land: the log then shows an allow that was not carried out, never the reverse),
   * and the lines queued behind it are dropped, counted, and their calls refused too. New calls are
   * refused until the write completes; a `decision-log-stall` line then says what happened.
   */
  const onStall = (): void => {
    stalled = true;
    stalledSince = clock();
    notify(false, `decision log write pending for over ${options.maxWriteMs} ms (${sink.name}); refusing calls until it completes`);
    const segment = inFlight?.segment;
    if (segment !== undefined) {
      stallDenied += segment.waiters.length;
      const waiting = segment.waiters;
      segment.waiters = [];
      queue.resetHead(segment.end);
      for (const done of waiting) done(false);
    }
    for (const s of queue.takeAll()) {
      stallLost += s.lines.length;
      for (const done of s.waiters) done(false);
    }
  };

  const schedule = (): void => {
    if (scheduled || inFlight !== undefined || failure !== undefined) return;
    scheduled = true;
    // setImmediate: lines of every call decided in this turn of the event loop share the write.
    setImmediate(startWrite);
  };

  const startWrite = (): void => {
    scheduled = false;
    if (inFlight !== undefined || failure !== undefined) return;
    const segment = queue.shift();
    if (segment === undefined) return;
    if (segment.before === 'reopen') sink.reopen();
    if (segment.before === 'rotate') {
      try {
        sink.rotate?.();
        rotations++;
      } catch (err) {
        finish(segment, `rotation failed: ${describe(err as NodeJS.ErrnoException)}`, false);
        return;
      }
    }
    if (segment.lines.length === 0) {
      finish(segment, undefined, false);
      return;
    }
    inFlight = { started: now(), chars: segment.chars, segment };
    stallTimer = setTimeout(isStalled, options.maxWriteMs + 1);
    stallTimer.unref();
    const text = (tornTail ? '\n' : '') + (segment.lines.length === 1 ? (segment.lines[0] as string) : segment.lines.join(''));
    sink.write(Buffer.from(text, 'utf8'), (err, torn) => {
      if (err !== undefined) return finish(segment, describe(err), torn);
      if (options.durability !== 'fsync') return finish(segment, undefined, false);
      sink.sync((syncErr) => finish(segment, syncErr === undefined ? undefined : `fsync: ${describe(syncErr)}`, false));
    });
  };

  const finish = (segment: Segment, error: string | undefined, torn: boolean): void => {
    inFlight = undefined;
    if (stallTimer !== undefined) clearTimeout(stallTimer);
    stallTimer = undefined;
    if (error !== undefined) {
      fail(`decision log write to ${sink.name} failed: ${error}${torn ? ' (a line may be cut short)' : ''}`, segment, torn);
      return;
    }
    tornTail = false;
    committed = segment.end;
    linesWritten += segment.lines.length;
    for (const done of segment.waiters) done(true);
    if (stalled) {
      stalled = false;
      lines.enqueue(lines.event('warn', 'decision-log-stall', { since: stalledSince, answeredAsRefused: stallDenied, lost: stallLost }));
      stallDenied = 0;
      stallLost = 0;
      notify(true, `decision log write to ${sink.name} completed; accepting calls again`);
    }
    if (queue.length > 0) startWrite();
  };

  const fail = (why: string, segment: Segment, torn: boolean): void => {
    const everything = [segment, ...queue.takeAll()];
    const lost = everything.reduce((n, s) => n + s.lines.length, 0);
    // The chain goes on from the last line known to be written; the gap line links to it.
    queue.resetHead(committed);
    tornTail ||= torn;
    linesLost += lost + stallLost;
    lostSinceGap += lost + stallLost;
    stallLost = 0;
    stallDenied = 0;
    failures++;
    stalled = false;
    failure = why;
    failedAt = clock();
    notify(false, `${why}; refusing calls until it works again`);
    for (const s of everything) for (const done of s.waiters) done(false);
    retryDelay = options.retryFirst;
    retryLater();
  };

  const retryLater = (): void => {
    if (isClosed()) return;
    retryTimer = setTimeout(retry, retryDelay);
    retryTimer.unref();
    retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
  };

  /** Tries the sink again with the gap line; the first one written ends the failure. */
  const retry = (): void => {
    retryTimer = undefined;
    if (isClosed() || failure === undefined) return;
    const gap = lines.event('error', 'decision-log-gap', { failure, since: failedAt, lost: lostSinceGap, refused: refused.counts() });
    const text = (tornTail ? '\n' : '') + gap;
    inFlight = { started: now(), chars: text.length };
    sink.write(Buffer.from(text, 'utf8'), (err, torn) => {
      inFlight = undefined;
      if (err !== undefined) {
        tornTail ||= torn;
        failure = `decision log write to ${sink.name} failed: ${describe(err)}`;
        retryLater();
        return;
      }
      tornTail = false;
      stalled = false;
      const head = { seq: queue.head.seq + 1, prev: lineHash(gap) };
      queue.resetHead(head);
      committed = head;
      linesWritten++;
      lostSinceGap = 0;
      refused.clear();
      failure = undefined;
      notify(true, `decision log ${sink.name} works again; accepting calls`);
    });
  };

  /**
   * Never while a write is in flight: lines written now would land before it and break the chain;
   * they are failed instead. Stops at the first failure and fails everything behind it (a line is
   * never chained onto a lost one).
   */
  const writeAllNow = (): void => {
    if (queue.length === 0 || failure !== undefined) return;
    const all = queue.takeAll();
    if (inFlight !== undefined) {
      for (const s of all) for (const done of s.waiters) done(false);
      return;
    }
    for (const [i, segment] of all.entries()) {
      try {
        if (segment.before === 'reopen') sink.reopen();
        if (segment.before === 'rotate') sink.rotate?.();
        if (segment.lines.length > 0) sink.writeSync(Buffer.from((tornTail ? '\n' : '') + segment.lines.join(''), 'utf8'));
      } catch (err) {
        failure = `decision log write to ${sink.name} failed: ${describe(err as NodeJS.ErrnoException)}`;
        tornTail = true;
        for (const rest of all.slice(i)) for (const done of rest.waiters) done(false);
        return;
      }
      tornTail = false;
      committed = segment.end;
      linesWritten += segment.lines.length;
      for (const done of segment.waiters) done(true);
    }
  };

  return {
    ready: () => failure === undefined && pendingChars() < options.maxPendingBytes && !isStalled(),
    healthy: () => failure === undefined && !isStalled(),
    failed: () => failure !== undefined,
    failure: () => failure ?? (stalled ? `decision log write to ${sink.name} stalled` : undefined),
    busy: () => inFlight !== undefined || (queue.length > 0 && failure === undefined),
    schedule,
    writeAllNow,
    stats: () => ({
      durability: options.durability,
      healthy: failure === undefined && !stalled,
      pendingBytes: pendingChars(),
      pendingLines: queue.lines() + (inFlight?.segment?.lines.length ?? (inFlight === undefined ? 0 : 1)),
      linesWritten,
      linesLost,
      failures,
      rotations,
    }),
    stopTimers() {
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      if (stallTimer !== undefined) clearTimeout(stallTimer);
    },
  };
}

function describe(err: NodeJS.ErrnoException): string {
  return err.code ?? err.message;
}
