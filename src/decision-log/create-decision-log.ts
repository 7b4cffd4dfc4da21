import { createIsoClock, formatDecisionLine, formatEventLine } from './decision-line.js';
import type { Committed, DecisionLog, DecisionLogOptions } from './decision-log.js';
import type { DecisionRecord } from './decision-record.js';
import { exitHandlers } from './exit-handlers.js';
import { CHAIN_START, type ChainPosition, lineHash } from './hash-chain.js';
import type { LogSink } from './log-sink.js';

export type { Committed, DecisionLog, DecisionLogOptions, DecisionLogStats, Durability } from './decision-log.js';

const RETRY_MAX_MS = 2000;
const SUMMARY_MS = 1000;

/** Lines that go out in one write, after an optional rotation (a rotation is never inside a write). */
interface Segment {
  /** Before writing: rotate the file (size or age), or reopen it (SIGHUP after an external logrotate). */
  before?: 'rotate' | 'reopen';
  lines: string[];
  chars: number;
  waiters: Committed[];
  /** Chain position after the segment's last line. */
  end: ChainPosition;
}

/**
 * The decision log: group commit over one sink, on a hash chain. Lines appended while a write is in
 * flight wait for it and go out together in the next write, so under load one write(2) carries many
 * lines and, in `written` mode, answers many calls. Every line carries `seq` and `prev` (hash-chain.ts);
 * the first line of every file and of every run is a `decision-log-start` line naming the config digest.
 *
 * Failure is a state, not an end: a failed write fails every line in it and every line waiting
 * behind it (their calls are denied, or already were), the chain rewinds to the last line known to
 * be written, the log stops accepting, and a retry with backoff writes a gap line
 * (`decision-log-gap`: when, why, how many lines were lost and how many calls were refused
 * meanwhile). Once that write succeeds the log accepts again. A write in flight past `maxWriteMs`
 * (a stopped reader, a hung disk) stops new calls the same way until it completes. Calls refused
 * without a decision are counted and summarized in one line a second.
 */
export function createDecisionLog(sink: LogSink, options: DecisionLogOptions): DecisionLog {
  const now = options.now ?? Date.now;
  const clock = createIsoClock(now);
  const waits = options.durability !== 'buffered';
  const retryFirst = options.retryMs ?? 100;
  const rotateBytes = sink.rotate === undefined ? undefined : options.rotate?.maxBytes;
  const rotateMs = sink.rotate === undefined || options.rotate?.everySeconds === undefined ? undefined : options.rotate.everySeconds * 1000;
  const checkpoint = options.checkpoint;

  const resumed = sink.chainTail?.() ?? { ...CHAIN_START, torn: false };
  /** Chain position of the next line appended, and of the next line after what is known written. */
  let head: ChainPosition = resumed;
  let committed: ChainPosition = resumed;
  let segments: Segment[] = [];
  let queuedChars = 0;
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
  let tornTail = resumed.torn;
  let stalled = false;
  let retryDelay = retryFirst;
  let retryTimer: NodeJS.Timeout | undefined;
  let refused = new Map<string, number>();
  let refusedSince = '';
  let linesWritten = 0;
  let linesLost = 0;
  let lostSinceGap = 0;
  let failures = 0;
  let rotations = 0;
  let fileChars = 0;
  let linesInFile = 0;
  let fileOpened = now();
  let sinceCheckpoint = 0;
  let closed = false;

  const notify = (healthy: boolean, msg: string): void => options.onStateChange?.({ healthy, msg });
  const pendingChars = (): number => queuedChars + (inFlight?.chars ?? 0);

  /** Puts a formatted line at the end of the queue and moves the chain head past it. */
  const enqueue = (line: string, done?: Committed): void => {
    let last = segments[segments.length - 1];
    if (last === undefined) {
      last = { lines: [], chars: 0, waiters: [], end: head };
      segments.push(last);
    }
    last.lines.push(line);
    last.chars += line.length;
    if (done !== undefined) last.waiters.push(done);
    queuedChars += line.length;
    fileChars += line.length;
    linesInFile++;
    sinceCheckpoint++;
    head = { seq: head.seq + 1, prev: lineHash(line) };
    last.end = head;
  };
  const event = (level: 'info' | 'warn' | 'error', msg: string, fields: Readonly<Record<string, unknown>>): string =>
    formatEventLine(level, clock(), head, msg, fields);
  let configDigest = options.configDigest ?? null;
  const startLine = (reason: 'start' | 'rotate' | 'reopen', extra: Readonly<Record<string, unknown>> = {}): void => {
    enqueue(event('info', 'decision-log-start', { reason, configDigest, ...extra }));
  };
  const checkpointLine = (): void => {
    if (checkpoint === undefined || sinceCheckpoint === 0) return;
    const at = head;
    enqueue(formatEventLine('info', clock(), at, 'decision-log-checkpoint', { keyId: checkpoint.signer.keyId, sig: checkpoint.signer.sign(at.seq, at.prev) }));
    sinceCheckpoint = 0;
  };
  /** After a line: a checkpoint when due, a rotation (the old file ends signed, the new one starts) when due. */
  const afterLine = (): void => {
    if (checkpoint !== undefined && sinceCheckpoint >= checkpoint.everyLines) checkpointLine();
    // A file holding only its start line is not rotated (an idle log does not make empty files).
    const due = linesInFile > 1 && ((rotateBytes !== undefined && fileChars >= rotateBytes) || (rotateMs !== undefined && now() - fileOpened >= rotateMs));
    if (due) newFile('rotate');
  };
  /** Ends the current file (signed, when checkpoints are on) and starts the next one on the same chain. */
  const newFile = (how: 'rotate' | 'reopen'): void => {
    checkpointLine();
    segments.push({ before: how, lines: [], chars: 0, waiters: [], end: head });
    fileChars = 0;
    linesInFile = 0;
    fileOpened = now();
    startLine(how);
  };

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
      head = segment.end;
      for (const done of waiting) done(false);
    }
    const dropped = segments;
    segments = [];
    queuedChars = 0;
    for (const s of dropped) {
      stallLost += s.lines.length;
      for (const done of s.waiters) done(false);
    }
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
    if (inFlight !== undefined || failure !== undefined) return;
    const segment = segments.shift();
    if (segment === undefined) return;
    queuedChars -= segment.chars;
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
      enqueue(event('warn', 'decision-log-stall', { since: stalledSince, answeredAsRefused: stallDenied, lost: stallLost }));
      stallDenied = 0;
      stallLost = 0;
      notify(true, `decision log write to ${sink.name} completed; accepting calls again`);
    }
    if (segments.length > 0) startWrite();
  };

  const fail = (why: string, segment: Segment, torn: boolean): void => {
    const everything = [segment, ...segments];
    const lost = everything.reduce((n, s) => n + s.lines.length, 0);
    segments = [];
    queuedChars = 0;
    // The chain goes on from the last line known to be written; the gap line links to it.
    head = committed;
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
    retryDelay = retryFirst;
    retryLater();
  };

  const retryLater = (): void => {
    if (closed) return;
    retryTimer = setTimeout(retry, retryDelay);
    retryTimer.unref();
    retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
  };

  /** Tries the sink again with the gap line; the first one written ends the failure. */
  const retry = (): void => {
    retryTimer = undefined;
    if (closed || failure === undefined) return;
    const gap = event('error', 'decision-log-gap', { failure, since: failedAt, lost: lostSinceGap, refused: Object.fromEntries(refused) });
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
      head = { seq: head.seq + 1, prev: lineHash(gap) };
      committed = head;
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
    enqueue(event('warn', 'refused', { since: refusedSince, counts: Object.fromEntries(refused) }));
    refused = new Map();
    refusedSince = '';
    afterLine();
  };
  const timers = [
    setInterval(() => {
      queueSummary();
      if (segments.length > 0) schedule();
    }, SUMMARY_MS),
  ];
  if (checkpoint !== undefined) {
    timers.push(
      setInterval(() => {
        if (failure !== undefined || closed || sinceCheckpoint === 0) return;
        checkpointLine();
        schedule();
      }, checkpoint.everySeconds * 1000),
    );
  }
  if (rotateMs !== undefined) {
    // A quiet log still rotates on time: the start line of the new file is written when it is due.
    timers.push(
      setInterval(
        () => {
          if (failure !== undefined || closed || now() - fileOpened < rotateMs) return;
          afterLine();
          schedule();
        },
        Math.min(rotateMs, 60_000),
      ),
    );
  }
  for (const t of timers) t.unref();

  /**
   * Writes what is queued, synchronously (shutdown, process exit). Never while a write is in flight:
   * lines written now would land before it and break the chain; they are failed instead. Stops at
   * the first failure and fails everything behind it (a line is never chained onto a lost one).
   */
  const writeAllNow = (): void => {
    if (segments.length === 0 || failure !== undefined) return;
    const all = segments.splice(0);
    queuedChars = 0;
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
  const onExit = (): void => {
    if (closed) return;
    queueSummary();
    checkpointLine();
    writeAllNow();
  };
  exitHandlers.add(onExit);

  startLine('start', { resumed: resumed.prev !== null });
  schedule();

  return {
    accepting,
    waits,
    append(record, done) {
      if (!accepting()) return false;
      let line: string;
      try {
        line = formatDecisionLine(record, clock(), head);
      } catch {
        // Not reachable with records from toDecisionRecord (plain data only); refused, so the caller denies.
        return false;
      }
      enqueue(line, waits ? done : undefined);
      afterLine();
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
      pendingLines: segments.reduce((n, s) => n + s.lines.length, inFlight?.segment?.lines.length ?? (inFlight === undefined ? 0 : 1)),
      linesWritten,
      linesLost,
      failures,
      rotations,
    }),
    noteConfig(digest, reason = 'reload') {
      configDigest = digest;
      if (!closed) enqueue(event('info', 'decision-log-config', { reason, configDigest: digest }));
    },
    reopen() {
      if (failure !== undefined || closed) {
        sink.reopen();
        return;
      }
      // The reopened file is new (logrotate moved the old one): lines queued before the signal go to
      // the old one, then the new one starts with a start line, on the same chain.
      newFile('reopen');
      schedule();
    },
    async close() {
      if (closed) return;
      // The last lines (refused counts, a final checkpoint) go out the ordinary way, so a sink that
      // cannot write synchronously (RELP) still gets them; up to 2 s, then whatever is left is written
      // synchronously, or failed if a write is still in flight (it would land after them).
      queueSummary();
      checkpointLine();
      schedule();
      const deadline = Date.now() + 2000;
      while ((inFlight !== undefined || (segments.length > 0 && failure === undefined)) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      writeAllNow();
      closed = true;
      exitHandlers.delete(onExit);
      for (const t of timers) clearInterval(t);
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      if (stallTimer !== undefined) clearTimeout(stallTimer);
      // Always: a write still stuck is failed by the close (its callbacks still run once), no socket or descriptor is left open.
      sink.close();
    },
  };
}

function describe(err: NodeJS.ErrnoException): string {
  return err.code ?? err.message;
}
