import { Writable } from 'node:stream';
import type { DestinationStream } from 'pino';

/** An in-memory destination for tests: every line parsed. */
export function createMemoryDestination(): { stream: DestinationStream; lines: Record<string, unknown>[]; raw: string[] } {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '') continue;
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { stream: stream as unknown as DestinationStream, lines, raw };
}
