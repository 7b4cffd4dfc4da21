import { mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type DestinationStream } from 'pino';
import { createIsoClock, formatDecisionLine } from './decision-line.js';
import type { DecisionRecord } from './decision-record.js';

export interface DecisionLog {
  write(record: DecisionRecord): void;
  /** False once the sink failed or dropped a line: callguard then refuses every call (fail closed on audit). */
  healthy(): boolean;
  /** Why the sink is unhealthy, for the operational log. */
  readonly failure: string | undefined;
  /** Hands every pending line to the sink and flushes it (call on shutdown; also done on process exit). */
  flush(): void;
}

/** Lines buffered in memory while the disk is slower than the traffic; past this, lines would be dropped. */
const MAX_BUFFER_BYTES = 64 * 1024 * 1024;
/** Lines are handed to the destination in batches: when this many characters are pending… */
const BATCH_CHARS = 16 * 1024;
/** …or this long after the first of them, whichever comes first. */
const BATCH_MS = 10;

/**
 * The decision log. File and stdout destinations are pino's asynchronous destination (sonic-boom),
 * so a slow disk never stalls the Check path, and lines are handed to it in batches (16 KiB or
 * 10 ms, whichever comes first): each asynchronous write is a round trip through libuv's thread
 * pool (16–40 µs for a 16 KiB write measured alone on the 2-core bench machine), and sonic-boom
 * re-measures its pending buffer on every write; with one write per line, the write call was ~5 %
 * of callguard's busy time under load. A line is therefore on disk at most ~10 ms after its
 * decision; pending lines are written on `flush()` (shutdown) and on process exit, and lost only
 * if the process is killed outright.
 *
 * A file is opened (created, for appending) before this returns, so a destination that cannot be
 * opened throws here, at start-up, and a line batched at exit always has somewhere to go.
 *
 * Fail closed on audit: a write error (ENOSPC, EIO, EPIPE), a line dropped because the buffer is
 * full, or a record that cannot be serialized makes the log unhealthy, and callguard then denies
 * everything (ERR_DECISION_LOG_UNAVAILABLE) and reports NOT_SERVING.
 */
export function createDecisionLog(destination: string | DestinationStream, onFailure: (why: string) => void = () => {}): DecisionLog {
  let failure: string | undefined;
  const fail = (why: string): void => {
    if (failure === undefined) {
      failure = why;
      onFailure(why);
    }
  };
  const stream =
    typeof destination !== 'string'
      ? destination
      : pino.destination({
          dest: destination === 'stdout' ? 1 : destination === 'stderr' ? 2 : openForAppend(destination),
          sync: false,
          maxLength: MAX_BUFFER_BYTES,
        });
  const events = stream as unknown as { on?: (event: string, listener: (arg: unknown) => void) => void };
  events.on?.('error', (err) => fail(`decision log write failed: ${(err as NodeJS.ErrnoException).code ?? String(err)}`));
  events.on?.('drop', () => fail('decision log buffer full: a line was dropped'));
  const clock = createIsoClock();

  // A stream passed in (tests, `callguard check`) gets each line as it is made.
  const batched = typeof destination === 'string';
  let pending: string[] = [];
  let pendingChars = 0;
  let timer: NodeJS.Timeout | undefined;
  const handOver = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    const chunk = pending.length === 1 ? (pending[0] as string) : pending.join('');
    pending = [];
    pendingChars = 0;
    put(chunk);
  };
  const put = (text: string): void => {
    try {
      stream.write(text);
    } catch (err) {
      fail(`decision log write failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const flushNow = (): void => {
    handOver();
    const s = stream as { flushSync?: () => void };
    try {
      s.flushSync?.();
    } catch {
      // A stream passed in may throw when not ready; a file here is opened before use, so it is always ready.
    }
  };
  // Lines still batched when the process exits (process.exit anywhere, an uncaught exception) are
  // written synchronously on the way out, as pino does for its own buffer.
  if (batched) flushOnExit.add(flushNow);

  return {
    write(record) {
      let line: string;
      try {
        line = formatDecisionLine(record, clock());
      } catch (err) {
        // Not reachable with records from toDecisionRecord; if it ever is, the line is lost: say so and close.
        fail(`decision record could not be serialized: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      if (!batched) {
        put(line);
        return;
      }
      pending.push(line);
      pendingChars += line.length;
      if (pendingChars >= BATCH_CHARS) handOver();
      else if (timer === undefined) timer = setTimeout(handOver, BATCH_MS).unref();
    },
    healthy: () => failure === undefined,
    get failure() {
      return failure;
    },
    flush() {
      flushOnExit.delete(flushNow);
      flushNow();
    },
  };
}

/** Opens (creating it and its directory) `file` for appending; throws the system error (ENOTDIR, EACCES, …). */
function openForAppend(file: string): number {
  mkdirSync(dirname(file), { recursive: true });
  return openSync(file, 'a');
}

/** Batched logs not yet flushed by their owner; one process `exit` listener serves them all. */
const flushOnExit = new Set<() => void>();
process.once('exit', () => {
  for (const flush of flushOnExit) flush();
});
