import { createIsoClock, formatDecisionLine } from './decision-line.js';
import type { DecisionLog, DecisionLogOptions } from './decision-log.js';
import { exitHandlers } from './exit-handlers.js';
import { createFileSequence } from './file-sequence.js';
import { CHAIN_START } from './hash-chain.js';
import type { LogSink } from './log-sink.js';
import { createLogWriter } from './log-writer.js';
import { createPendingQueue } from './pending-queue.js';
import { createRefusedCounts } from './refused-counts.js';

export type { Committed, DecisionLog, DecisionLogOptions, DecisionLogStats, Durability } from './decision-log.js';

const SUMMARY_MS = 1000;

/**
 * The decision log: group commit over one sink, on a hash chain. Lines appended while a write is in
 * flight wait for it and go out together in the next write, so under load one write(2) carries many
 * lines and, in `written` mode, answers many calls. Every line carries `seq` and `prev` (hash-chain.ts);
 * the first line of every file and of every run is a `decision-log-start` line naming the config digest.
 *
 * The parts: the pending queue (pending-queue.ts), the lines the log writes about itself and the
 * files they run through (file-sequence.ts), the writer with its failures, retries and stalls
 * (log-writer.ts, which says how a failure is a state, not an end), and the calls refused without a
 * decision, counted and summarized in one line a second (refused-counts.ts).
 */
export function createDecisionLog(sink: LogSink, options: DecisionLogOptions): DecisionLog {
  const now = options.now ?? Date.now;
  const clock = createIsoClock(now);
  const waits = options.durability !== 'buffered';
  const rotateBytes = sink.rotate === undefined ? undefined : options.rotate?.maxBytes;
  const rotateMs = sink.rotate === undefined || options.rotate?.everySeconds === undefined ? undefined : options.rotate.everySeconds * 1000;

  const resumed = sink.chainTail?.() ?? { ...CHAIN_START, torn: false };
  const queue = createPendingQueue(resumed);
  const lines = createFileSequence({ queue, clock, now, configDigest: options.configDigest ?? null, rotateBytes, rotateMs, checkpoint: options.checkpoint });
  const refused = createRefusedCounts(clock);
  let closed = false;
  // A config change not (yet) on the chain: made while the sink fails (queued then, it would take the
  // position the gap line is written at, and the chain would break), or whose line a failure or stall
  // dropped. Said once the log works again; `reload` wins over `mcp-tools-listed` when both happened.
  let configUnsaid: 'reload' | 'mcp-tools-listed' | undefined;
  const unsaid = (reason: 'reload' | 'mcp-tools-listed'): void => {
    configUnsaid = configUnsaid === 'reload' ? 'reload' : reason;
  };
  const sayConfig = (reason: 'reload' | 'mcp-tools-listed'): void => {
    lines.configLine(reason, (ok) => {
      if (!ok && !closed) unsaid(reason);
    });
  };
  const writer = createLogWriter({
    sink,
    queue,
    lines,
    refused,
    durability: options.durability,
    maxPendingBytes: options.maxPendingBytes,
    maxWriteMs: options.maxWriteMs,
    retryFirst: options.retryMs ?? 100,
    resumed,
    now,
    clock,
    notify: (healthy, msg) => {
      if (healthy && configUnsaid !== undefined && !writer.failed() && !closed) {
        const reason = configUnsaid;
        configUnsaid = undefined;
        sayConfig(reason);
        writer.schedule();
      }
      options.onStateChange?.({ healthy, msg });
    },
    isClosed: () => closed,
  });
  const accepting = (): boolean => !closed && writer.ready();

  /** Queues the `refused` summary line (counts since the last one), if there is anything to say. */
  const queueSummary = (): void => {
    if (refused.size === 0 || writer.failed() || closed) return;
    lines.enqueue(lines.event('warn', 'refused', refused.summary()));
    refused.clear();
    lines.afterLine();
  };
  const timers = [
    setInterval(() => {
      queueSummary();
      if (queue.length > 0) writer.schedule();
    }, SUMMARY_MS),
    ...lines.startTimers(() => writer.failed() || closed, writer.schedule),
  ];
  for (const t of timers) t.unref();

  // A checkpoint signs the chain's head: never while the sink fails (the gap line will take that position).
  const finalCheckpoint = (): void => {
    if (!writer.failed()) lines.checkpointLine();
  };
  const onExit = (): void => {
    if (closed) return;
    queueSummary();
    finalCheckpoint();
    writer.writeAllNow();
  };
  exitHandlers.add(onExit);

  lines.startLine('start', { resumed: resumed.prev !== null });
  writer.schedule();

  return {
    accepting,
    waits,
    append(record, done) {
      if (!accepting()) return false;
      let line: string;
      try {
        line = formatDecisionLine(record, clock(), queue.head);
      } catch {
        // Not reachable with records from toDecisionRecord (plain data only); refused, so the caller denies.
        return false;
      }
      lines.enqueue(line, waits ? done : undefined);
      lines.afterLine();
      writer.schedule();
      return true;
    },
    noteRefused: refused.note,
    healthy: writer.healthy,
    get failure() {
      return writer.failure();
    },
    stats: writer.stats,
    noteConfig(digest, reason = 'reload') {
      lines.setConfigDigest(digest);
      if (closed) return;
      if (writer.failed()) unsaid(reason);
      else {
        sayConfig(reason);
        writer.schedule();
      }
    },
    reopen() {
      if (writer.failed() || closed) {
        sink.reopen();
        return;
      }
      // The reopened file is new (logrotate moved the old one): lines queued before the signal go to
      // the old one, then the new one starts with a start line, on the same chain.
      lines.newFile('reopen');
      writer.schedule();
    },
    async close() {
      if (closed) return;
      // The last lines (refused counts, a final checkpoint) go out the ordinary way, so a sink that
      // cannot write synchronously (RELP) still gets them; up to 2 s, then whatever is left is written
      // synchronously, or failed if a write is still in flight (it would land after them).
      queueSummary();
      finalCheckpoint();
      writer.schedule();
      const deadline = Date.now() + 2000;
      while (writer.busy() && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      writer.writeAllNow();
      closed = true;
      exitHandlers.delete(onExit);
      for (const t of timers) clearInterval(t);
      writer.stopTimers();
      // Always: a write still stuck is failed by the close (its callbacks still run once), no socket or descriptor is left open.
      sink.close();
    },
  };
}
