import pino, { type DestinationStream, type Logger } from 'pino';
import type { DecisionRecord } from './decision-record.js';

export interface DecisionLog {
  write(record: DecisionRecord): void;
  /** False once the sink failed or dropped a line: callguard then refuses every call (fail closed on audit). */
  healthy(): boolean;
  /** Why the sink is unhealthy, for the operational log. */
  readonly failure: string | undefined;
  /** Flushes buffered lines (call on shutdown). */
  flush(): void;
}

/** Lines buffered in memory while the disk is slower than the traffic; past this, lines would be dropped. */
const MAX_BUFFER_BYTES = 64 * 1024 * 1024;

/**
 * A pino sink for decision records. Files and stdout are written asynchronously (sonic-boom), so a
 * slow disk never stalls the Check path. A write error (ENOSPC, EIO, EPIPE) or a line dropped
 * because the buffer is full makes the log unhealthy: an unrecorded decision is an unaudited call,
 * so callguard then denies everything (ERR_DECISION_LOG_UNAVAILABLE) and reports NOT_SERVING.
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
          dest: destination === 'stdout' ? 1 : destination === 'stderr' ? 2 : destination,
          sync: false,
          mkdir: true,
          maxLength: MAX_BUFFER_BYTES,
        });
  const events = stream as unknown as { on?: (event: string, listener: (arg: unknown) => void) => void };
  events.on?.('error', (err) => fail(`decision log write failed: ${(err as NodeJS.ErrnoException).code ?? String(err)}`));
  events.on?.('drop', () => fail('decision log buffer full: a line was dropped'));
  const logger: Logger = pino(
    { base: null, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
    stream,
  );
  return {
    write(record) {
      logger.info(record, 'decision');
    },
    healthy: () => failure === undefined,
    get failure() {
      return failure;
    },
    flush() {
      const s = stream as { flushSync?: () => void };
      try {
        s.flushSync?.();
      } catch {
        // sonic-boom throws if not ready yet; nothing buffered then.
      }
    },
  };
}
