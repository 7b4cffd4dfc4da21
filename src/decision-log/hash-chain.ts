import { hash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * The decision log's hash chain: every line carries `seq` (one more than the line before it) and
 * `prev`, the SHA-256 (base64url) of the previous line's bytes, newline included. Altering,
 * removing, reordering or truncating lines breaks the chain at that point; signed checkpoints
 * (see checkpoint-signer.ts) anchor it, so rewriting the whole tail is detectable too.
 */
export interface ChainPosition {
  /** `seq` of the next line. */
  readonly seq: number;
  /** Hash of the line before it; null where a chain starts (an empty file, stdout). */
  readonly prev: string | null;
}

export const CHAIN_START: ChainPosition = Object.freeze({ seq: 0, prev: null });

/** SHA-256 of a whole line (its UTF-8 bytes, trailing newline included), base64url. */
export function lineHash(line: string | Buffer): string {
  return hash('sha256', line, 'base64url');
}

/** Read backwards in chunks of this size, and at most this far, to find where an existing file's chain stopped. */
const CHUNK_BYTES = 64 * 1024;
const MAX_SCAN_BYTES = 16 * 1024 * 1024;

/**
 * Where the chain of an existing file stopped: after its last complete line with a `seq`.
 * `torn` when the file ends in a partial line (a write cut short): the next line must start on a
 * fresh line. A file whose last 16 MiB hold no chained line (empty, or not ours) starts a new chain.
 */
export function chainTailOf(path: string): ChainPosition & { readonly torn: boolean } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return { ...CHAIN_START, torn: false };
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size === 0) return { ...CHAIN_START, torn: false };
    const size = stat.size;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    const torn = last[0] !== 0x0a;
    // `tail` holds the file's bytes from `start` to `size`; it grows backwards until a chained line is whole in it.
    let tail = Buffer.alloc(0);
    let start = size;
    while (start > 0 && size - start < MAX_SCAN_BYTES) {
      const length = Math.min(CHUNK_BYTES, start);
      const chunk = Buffer.alloc(length);
      readSync(fd, chunk, 0, length, start - length);
      start -= length;
      tail = Buffer.concat([chunk, tail]);
      let stop = tail.lastIndexOf(0x0a);
      while (stop > 0) {
        const begin = tail.lastIndexOf(0x0a, stop - 1) + 1;
        if (begin === 0 && start > 0) break; // this line may begin before what was read: read more
        const line = tail.subarray(begin, stop + 1);
        const seq = seqOf(line);
        if (seq !== undefined) return { seq: seq + 1, prev: lineHash(line), torn };
        stop = begin - 1;
      }
    }
    return { ...CHAIN_START, torn };
  } finally {
    closeSync(fd);
  }
}

function seqOf(line: Buffer): number | undefined {
  try {
    const value = (JSON.parse(line.toString('utf8')) as { seq?: unknown }).seq;
    return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  } catch {
    return undefined;
  }
}
