import type { KeyObject } from 'node:crypto';
import { keyIdOf, verifyCheckpoint } from './checkpoint-signer.js';
import { type ChainPosition, lineHash } from './hash-chain.js';

/** Where a line is: a file and its 1-based line number. */
export interface LinePlace {
  readonly file: string;
  readonly line: number;
}

export interface ChainProblem extends LinePlace {
  readonly problem: string;
}

export interface ChainReport {
  readonly lines: number;
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
  readonly checkpoints: number;
  /** Checkpoints whose signature was checked with the key (0 without a key). */
  readonly verifiedCheckpoints: number;
  /** Chained lines after the last verified checkpoint (all of them when none was verified). */
  readonly unsigned: number;
  /** Things that are not tampering but worth knowing (lines a gap line accounts for, a chain begun before the first file). */
  readonly notes: readonly string[];
  /** The first problem no later gap or start line accounts for. */
  readonly problem?: ChainProblem;
}

const BACKLINKS = 1 << 16;
const RELINKS = new Set(['decision-log-gap', 'decision-log-start']);

/**
 * Checks lines of a decision log, fed in order (across rotated files), against the hash chain:
 * each line's `seq` is one more than the line before it and its `prev` is that line's SHA-256.
 * A missing, altered, reordered, duplicated or truncated line breaks the chain where it happened.
 *
 * One thing breaks the chain legitimately: a failed write. Its lines may be partly on disk (a line
 * cut short) or whole but unacknowledged (their calls were denied). callguard then writes a gap
 * line (or, after a restart, a start line) whose `prev` links back to the last line it knows was
 * written; such a link forgives the problems since that line, and says so in `notes`. With a key,
 * every checkpoint's Ed25519 signature must verify.
 */
export function createChainVerifier(options: { readonly key?: KeyObject } = {}) {
  const keyId = options.key === undefined ? undefined : keyIdOf(options.key);
  let expect: ChainPosition | undefined;
  const hashes = new Map<number, string>();
  /** Problems not (yet) accounted for, each with the seq of the last line before it that linked (-1: none). */
  let pending: (ChainProblem & { readonly after: number })[] = [];
  let fatal: ChainProblem | undefined;
  const notes: string[] = [];
  let lines = 0;
  let firstSeq: number | null = null;
  let lastSeq: number | null = null;
  let checkpoints = 0;
  let verified = 0;
  let unsigned = 0;

  const problem = (at: LinePlace, text: string): void => {
    pending.push({ ...at, problem: text, after: expect === undefined ? -1 : expect.seq - 1 });
  };

  return {
    /** One line: its bytes with the newline, or without when it was the file's unterminated end. */
    push(at: LinePlace, bytes: Buffer): void {
      if (fatal !== undefined) return;
      lines++;
      if (bytes[bytes.length - 1] !== 0x0a) {
        problem(at, 'the line has no newline: cut short (a write cut short, or the file was truncated)');
        return;
      }
      let record: { seq?: unknown; prev?: unknown; msg?: unknown; sig?: unknown; keyId?: unknown };
      try {
        record = JSON.parse(bytes.toString('utf8')) as typeof record;
      } catch {
        problem(at, 'not a JSON line: altered, or cut short');
        return;
      }
      const { seq, prev, msg } = record;
      if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0 || (prev !== null && typeof prev !== 'string')) {
        problem(at, 'the line has no chain fields (seq, prev): not written by callguard, or altered');
        return;
      }
      const link = prev as string | null;
      const relink = typeof msg === 'string' && RELINKS.has(msg);
      if (expect === undefined) {
        firstSeq = seq;
        if (link !== null)
          notes.push(`${at.file}:${at.line}: the chain begins before the first line given (seq ${seq}); give the earlier files to check that link`);
      } else if (relink && link !== null && hashes.get(seq - 1) === link) {
        // A gap or start line written after a failed write or a crash links back to the last line
        // callguard knew was written. Only what happened after that line is accounted for. The lines
        // of the failed write that did land (a checkpoint among them, perhaps) stand as written but not
        // acknowledged. A problem before a verified checkpoint was already fatal at that checkpoint,
        // so no gap line can excuse it.
        const forgiven = pending.filter((p) => p.after >= seq - 1);
        pending = pending.filter((p) => p.after < seq - 1);
        const skipped = expect.seq - seq;
        if (forgiven.length > 0 || skipped > 0) {
          notes.push(
            `${at.file}:${at.line}: ${msg} links back to seq ${seq - 1}: ${skipped > 0 ? `${skipped} line(s) after it were written but not acknowledged (their calls were denied)` : 'the line(s) between were cut short by a failed write'}${forgiven.length > 0 ? `; ${forgiven.length} damaged line(s) before it are accounted for` : ''}`,
          );
        }
      } else if (relink && link === null && seq === 0 && msg === 'decision-log-start' && pending.length === 0) {
        // A new chain: a destination callguard cannot read back (stdout, a FIFO) starts over at each start.
        notes.push(`${at.file}:${at.line}: a new chain starts here (a restart logging to a stream); nothing links it to the lines before`);
      } else if (seq === expect.seq && link === expect.prev) {
        // The next line, as expected.
      } else if (seq > expect.seq) {
        problem(at, `seq ${seq} where ${expect.seq} was expected: ${seq - expect.seq} line(s) missing or out of order`);
      } else if (seq < expect.seq) {
        problem(at, `seq ${seq} after seq ${expect.seq - 1}: a line repeated or out of order`);
      } else if (link === null) {
        problem(at, 'the chain starts again here: the lines before cannot be linked to it');
      } else {
        problem(at, 'prev is not the hash of the line before it: that line was altered, or lines were reordered');
      }
      if (lastSeq === null || seq > lastSeq) lastSeq = seq;
      const own = lineHash(bytes);
      hashes.set(seq, own);
      if (hashes.size > BACKLINKS) hashes.delete(hashes.keys().next().value as number);
      expect = { seq: seq + 1, prev: own };
      unsigned++;
      if (msg !== 'decision-log-checkpoint') return;
      checkpoints++;
      if (options.key === undefined) return;
      if (record.keyId !== keyId) {
        fatal = { ...at, problem: `checkpoint signed by another key (keyId ${String(record.keyId)}, the key given is ${keyId})` };
        return;
      }
      if (typeof record.sig !== 'string' || !verifyCheckpoint(options.key, seq, link, record.sig)) {
        fatal = { ...at, problem: 'checkpoint signature does not verify: the line, or the chain it signs, was altered' };
        return;
      }
      // A checkpoint vouches for everything before it: a problem still open there is tampering.
      const [open] = pending;
      if (open !== undefined) {
        fatal = { file: open.file, line: open.line, problem: `${open.problem} (before the checkpoint at ${at.file}:${at.line})` };
        return;
      }
      verified++;
      unsigned = 0;
    },
    end(): ChainReport {
      const [head] = pending;
      let first = fatal ?? (head === undefined ? undefined : { file: head.file, line: head.line, problem: head.problem });
      if (first === undefined && options.key !== undefined && verified === 0 && lines > 0) {
        first = { file: '', line: 0, problem: 'no checkpoint signed with the key given: nothing vouches for these lines (were the checkpoints removed?)' };
      }
      return {
        lines,
        firstSeq,
        lastSeq,
        checkpoints,
        verifiedCheckpoints: verified,
        unsigned,
        notes,
        ...(first !== undefined ? { problem: first } : {}),
      };
    },
  };
}

/** Splits `text` into lines, each with its newline (the last one without, when the text does not end in one). */
export function* splitLines(text: Buffer): Generator<Buffer> {
  let start = 0;
  while (start < text.length) {
    const end = text.indexOf(0x0a, start);
    if (end === -1) {
      yield text.subarray(start);
      return;
    }
    yield text.subarray(start, end + 1);
    start = end + 1;
  }
}
