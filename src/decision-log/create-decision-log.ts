import pino, { type DestinationStream, type Logger } from 'pino';
import type { DecisionRecord } from './decision-record.js';

export interface DecisionLog {
  write(record: DecisionRecord): void;
  /** Flushes buffered lines (call on shutdown). */
  flush(): void;
}

/**
 * A pino sink for decision records. Files and stdout are written asynchronously (sonic-boom), so
 * a slow disk never stalls the Check path; `flush` runs on shutdown.
 */
export function createDecisionLog(destination: string | DestinationStream): DecisionLog {
  const stream =
    typeof destination !== 'string'
      ? destination
      : pino.destination({ dest: destination === 'stdout' ? 1 : destination === 'stderr' ? 2 : destination, sync: false, mkdir: true });
  const logger: Logger = pino(
    { base: null, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
    stream,
  );
  return {
    write(record) {
      logger.info(record, 'decision');
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
