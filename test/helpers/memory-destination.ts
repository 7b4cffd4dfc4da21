import { Writable } from 'node:stream';

/**
 * An in-memory destination for tests, every line parsed: `lines`/`raw` hold the decision lines,
 * `all` every line (the log's own start, gap, refused and checkpoint lines too).
 */
export function createMemoryDestination(): { stream: Writable; lines: Record<string, unknown>[]; raw: string[]; all: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const all: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '') continue;
        const parsed = JSON.parse(line) as Record<string, unknown>;
        all.push(parsed);
        if (parsed.msg !== 'decision') continue;
        raw.push(line);
        lines.push(parsed);
      }
      done();
    },
  });
  return { stream, lines, raw, all };
}
