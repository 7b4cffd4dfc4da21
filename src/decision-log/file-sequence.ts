import type { CheckpointSigner } from './checkpoint-signer.js';
import { formatEventLine } from './decision-line.js';
import type { Committed } from './decision-log.js';
import type { PendingQueue } from './pending-queue.js';

export interface FileSequenceOptions {
  readonly queue: PendingQueue;
  readonly clock: () => string;
  readonly now: () => number;
  readonly configDigest: string | null;
  /** Rotate past this many chars / this age; undefined when off or when the sink cannot rotate. */
  readonly rotateBytes: number | undefined;
  readonly rotateMs: number | undefined;
  readonly checkpoint: { readonly signer: CheckpointSigner; readonly everyLines: number; readonly everySeconds: number } | undefined;
}

/**
 * The files the chain runs through, and the lines the log writes on it about itself: every file
 * starts with a `decision-log-start` line naming the config digest, ends signed (when checkpoints are
 * on), and is rotated when due; a signed checkpoint follows every `everyLines` lines or `everySeconds`.
 */
export interface FileSequence {
  /** Queues a line, counted toward the current file and the next checkpoint. */
  enqueue(line: string, done?: Committed): void;
  /** A line about the log itself, at the chain head. */
  event(level: 'info' | 'warn' | 'error', msg: string, fields: Readonly<Record<string, unknown>>): string;
  startLine(reason: 'start' | 'rotate' | 'reopen', extra?: Readonly<Record<string, unknown>>): void;
  /** Queues a signed checkpoint, unless no line came since the last one (or checkpoints are off). */
  checkpointLine(): void;
  /** After a line: a checkpoint when due, a rotation (the old file ends signed, the new one starts) when due. */
  afterLine(): void;
  /** Ends the current file (signed, when checkpoints are on) and starts the next one on the same chain. */
  newFile(how: 'rotate' | 'reopen'): void;
  /** Names another config in later start lines; `configLine` says so on the chain. */
  setConfigDigest(digest: string): void;
  configLine(reason: 'reload' | 'mcp-tools-listed', done?: Committed): void;
  /** Checkpoints on time, and rotation on time for a quiet log; skipped while `paused`. */
  startTimers(paused: () => boolean, schedule: () => void): NodeJS.Timeout[];
}

export function createFileSequence(options: FileSequenceOptions): FileSequence {
  const { queue, clock, now, rotateBytes, rotateMs, checkpoint } = options;
  let configDigest = options.configDigest;
  let fileChars = 0;
  let linesInFile = 0;
  let fileOpened = now();
  let sinceCheckpoint = 0;

  const enqueue = (line: string, done?: Committed): void => {
    queue.push(line, done);
    fileChars += line.length;
    linesInFile++;
    sinceCheckpoint++;
  };
  const event = (level: 'info' | 'warn' | 'error', msg: string, fields: Readonly<Record<string, unknown>>): string =>
    formatEventLine(level, clock(), queue.head, msg, fields);
  const startLine = (reason: 'start' | 'rotate' | 'reopen', extra: Readonly<Record<string, unknown>> = {}): void => {
    enqueue(event('info', 'decision-log-start', { reason, configDigest, ...extra }));
  };
  const checkpointLine = (): void => {
    if (checkpoint === undefined || sinceCheckpoint === 0) return;
    const at = queue.head;
    enqueue(formatEventLine('info', clock(), at, 'decision-log-checkpoint', { keyId: checkpoint.signer.keyId, sig: checkpoint.signer.sign(at.seq, at.prev) }));
    sinceCheckpoint = 0;
  };
  const afterLine = (): void => {
    if (checkpoint !== undefined && sinceCheckpoint >= checkpoint.everyLines) checkpointLine();
    // A file holding only its start line is not rotated (an idle log does not make empty files).
    const due = linesInFile > 1 && ((rotateBytes !== undefined && fileChars >= rotateBytes) || (rotateMs !== undefined && now() - fileOpened >= rotateMs));
    if (due) newFile('rotate');
  };
  const newFile = (how: 'rotate' | 'reopen'): void => {
    checkpointLine();
    queue.boundary(how);
    fileChars = 0;
    linesInFile = 0;
    fileOpened = now();
    startLine(how);
  };

  return {
    enqueue,
    event,
    startLine,
    checkpointLine,
    afterLine,
    newFile,
    setConfigDigest(digest) {
      configDigest = digest;
    },
    configLine(reason, done) {
      enqueue(event('info', 'decision-log-config', { reason, configDigest }), done);
    },
    startTimers(paused, schedule) {
      const timers: NodeJS.Timeout[] = [];
      if (checkpoint !== undefined) {
        timers.push(
          setInterval(() => {
            if (paused() || sinceCheckpoint === 0) return;
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
              if (paused() || now() - fileOpened < rotateMs) return;
              afterLine();
              schedule();
            },
            Math.min(rotateMs, 60_000),
          ),
        );
      }
      return timers;
    },
  };
}
