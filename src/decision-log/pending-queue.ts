import type { Committed } from './decision-log.js';
import { type ChainPosition, lineHash } from './hash-chain.js';

/** Lines that go out in one write, after an optional rotation (a rotation is never inside a write). */
export interface Segment {
  /** Before writing: rotate the file (size or age), or reopen it (SIGHUP after an external logrotate). */
  before?: 'rotate' | 'reopen';
  lines: string[];
  chars: number;
  waiters: Committed[];
  /** Chain position after the segment's last line. */
  end: ChainPosition;
}

/**
 * The lines waiting for the sink, in segments, and the chain position of the next line appended.
 * Lines appended while a write is in flight join the last segment, so the next write carries them all.
 */
export interface PendingQueue {
  /** Chain position of the next line appended. */
  readonly head: ChainPosition;
  /** Chars of the queued lines (not counting a write under way). */
  readonly chars: number;
  /** Segments queued. */
  readonly length: number;
  /** Lines queued, in every segment. */
  lines(): number;
  /** Puts a formatted line at the end of the queue and moves the chain head past it. */
  push(line: string, done?: Committed): void;
  /** Starts a segment that rotates or reopens the file before it is written. */
  boundary(before: 'rotate' | 'reopen'): void;
  /** The next segment to write, out of the queue. */
  shift(): Segment | undefined;
  /** Every queued segment, out of the queue (failed, dropped or written synchronously by the caller). */
  takeAll(): Segment[];
  /** Moves the chain head: back to the last line known written, or past a line written outside the queue. */
  resetHead(to: ChainPosition): void;
}

export function createPendingQueue(start: ChainPosition): PendingQueue {
  let head = start;
  let segments: Segment[] = [];
  let queuedChars = 0;
  return {
    get head() {
      return head;
    },
    get chars() {
      return queuedChars;
    },
    get length() {
      return segments.length;
    },
    lines: () => segments.reduce((n, s) => n + s.lines.length, 0),
    push(line, done) {
      let last = segments[segments.length - 1];
      if (last === undefined) {
        last = { lines: [], chars: 0, waiters: [], end: head };
        segments.push(last);
      }
      last.lines.push(line);
      last.chars += line.length;
      if (done !== undefined) last.waiters.push(done);
      queuedChars += line.length;
      head = { seq: head.seq + 1, prev: lineHash(line) };
      last.end = head;
    },
    boundary(before) {
      segments.push({ before, lines: [], chars: 0, waiters: [], end: head });
    },
    shift() {
      const segment = segments.shift();
      if (segment !== undefined) queuedChars -= segment.chars;
      return segment;
    },
    takeAll() {
      const all = segments;
      segments = [];
      queuedChars = 0;
      return all;
    },
    resetHead(to) {
      head = to;
    },
  };
}
