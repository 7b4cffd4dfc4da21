const NEWLINE = 0x0a;

/**
 * Cuts chunks of bytes into lines, each with its newline, however the chunks fall. A partial line
 * waits for the rest; `flush` hands it out as it is (the end of a file that will not grow again).
 */
/** A line longer than this (no decision line comes near it) is handed out cut here, the rest of it skipped. */
export const MAX_LINE_BYTES = 1024 * 1024;

export function createLineSplitter(onLine: (bytes: Buffer) => void) {
  let partial: Buffer | undefined;
  /** Dropping the rest of an oversize line, up to its newline. */
  let skipping = false;
  return {
    push(chunk: Buffer): void {
      let start = 0;
      let end = chunk.indexOf(NEWLINE);
      if (skipping) {
        if (end === -1) return;
        skipping = false;
        start = end + 1;
        end = chunk.indexOf(NEWLINE, start);
      }
      if (end !== -1 && partial !== undefined) {
        const first = Buffer.concat([partial, chunk.subarray(0, end + 1)]);
        partial = undefined;
        onLine(first);
        start = end + 1;
        end = chunk.indexOf(NEWLINE, start);
      }
      while (end !== -1) {
        onLine(chunk.subarray(start, end + 1));
        start = end + 1;
        end = chunk.indexOf(NEWLINE, start);
      }
      if (start < chunk.length) {
        // Copied: the caller may reuse the chunk's memory for its next read.
        const rest = Buffer.from(chunk.subarray(start));
        partial = partial === undefined ? rest : Buffer.concat([partial, rest]);
        if (partial.length > MAX_LINE_BYTES) {
          // Bounded memory (`cat /dev/zero | callguard tail`): the cut line goes out (it is not JSON), the rest is skipped.
          const cut = partial.subarray(0, MAX_LINE_BYTES);
          partial = undefined;
          skipping = true;
          onLine(cut);
        }
      }
    },
    flush(): void {
      if (partial === undefined) return;
      const last = partial;
      partial = undefined;
      onLine(last);
    },
  };
}
