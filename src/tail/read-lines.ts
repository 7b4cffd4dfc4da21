import { createLineSplitter } from './create-line-splitter.js';

/**
 * Reads a byte stream (a file, stdin) to its end, line by line: `onLine` gets each line's 1-based
 * number and bytes (newline kept; the last line without, when the stream did not end in one).
 * `afterChunk` runs after the lines of each chunk (to wait for a slow standard output).
 */
export async function readLines(
  stream: AsyncIterable<Buffer>,
  onLine: (line: number, bytes: Buffer) => void,
  afterChunk: () => Promise<void> = async () => {},
): Promise<void> {
  let line = 0;
  const splitter = createLineSplitter((bytes) => onLine(++line, bytes));
  for await (const chunk of stream) {
    splitter.push(chunk);
    await afterChunk();
  }
  splitter.flush();
  await afterChunk();
}
