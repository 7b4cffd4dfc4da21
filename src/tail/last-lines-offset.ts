import type { FileHandle } from 'node:fs/promises';

const CHUNK = 64 * 1024;
const NEWLINE = 0x0a;

/**
 * Where the last `count` lines of a file begin (`tail -n`), and how many lines come before that
 * point (to number the lines read from it). A partial last line (a write still arriving) counts as
 * a line; with `count` 0 reading starts at its beginning, so no line is ever read from its middle.
 */
export async function lastLinesOffset(file: FileHandle, count: number): Promise<{ readonly offset: number; readonly linesBefore: number }> {
  const buffer = Buffer.alloc(CHUNK);
  /** Offsets where lines begin, the newest last; trimmed to the last `count` now and then. */
  let starts: number[] = [0];
  let newlines = 0;
  let position = 0;
  for (;;) {
    const { bytesRead } = await file.read(buffer, 0, CHUNK, position);
    if (bytesRead === 0) break;
    for (let i = buffer.indexOf(NEWLINE); i !== -1 && i < bytesRead; i = buffer.indexOf(NEWLINE, i + 1)) {
      newlines++;
      starts.push(position + i + 1);
    }
    if (starts.length > 2 * count + 2) starts = starts.slice(-(count + 1));
    position += bytesRead;
  }
  // The last start is the end of the file when it ends in a newline: no line begins there.
  const partial = starts[starts.length - 1] !== position;
  const lines = newlines + (partial ? 1 : 0);
  if (count === 0) return { offset: starts[starts.length - 1] ?? 0, linesBefore: newlines };
  if (lines <= count) return { offset: 0, linesBefore: 0 };
  const index = starts.length - 1 - (partial ? 0 : 1) - (count - 1);
  return { offset: starts[index] ?? 0, linesBefore: lines - count };
}
