import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { addAbortSignal, type Readable } from 'node:stream';
import { rotatedFiles } from '../decision-log/log-sink.js';
import { createChainVerifier } from '../decision-log/verify-chain.js';
import { createLineFilter } from '../tail/create-line-filter.js';
import { createStyle, wantsColor } from '../tail/create-style.js';
import { createTailPipeline, type TailSummary } from '../tail/create-tail-pipeline.js';
import { followFile } from '../tail/follow-file.js';
import { parseTailArgs, type TailOptions } from '../tail/parse-tail-args.js';
import { readLines } from '../tail/read-lines.js';

const USAGE = `usage: callguard tail [options] [FILE...]

  no FILE, or -      read standard input to its end (docker compose logs -f callguard | callguard tail)
  one FILE           follow it like tail -F, across rotation (rename + new file, logrotate, truncation)
  several FILEs      read them in order and exit (rotated files oldest first: decisions.log.* decisions.log)
  --rotated FILE     read FILE's rotated files (FILE.000001, …), then FILE, and exit

filters (all must match):
  --function NAME    a function, or a prefix ending in * (orders.*); repeatable
  --outcome allow|deny|would-deny
  --code ERR_X       a denial's reason code; repeatable
  --subject S        principal.subject or principal.spiffeId; repeatable
  --since T          from T: ISO-8601 (2026-12-02T19:54:30Z; UTC without a zone) or back from now (30s, 10m, 2h, 1d)
  --until T          up to T (reads the files and exits)
  Lines of the log itself (start, checkpoint) are shown unless --function/--outcome/--code/--subject is
  given; gap and refused lines (calls unrecorded or refused) are always shown within --since/--until.

output:
  -n, --lines N      when following without --since: start N lines before the end (default 10)
  --no-follow        read the one FILE to its end and exit
  --json             print the matching lines unchanged (for jq)
  --no-color         no colour (also NO_COLOR=1; there is none unless standard output is a terminal)
  --verify           check the hash chain of every line read; warn where it breaks; exit 1 if it is broken

Lines that are not log lines are printed to standard error marked "unparseable", and counted.
Exit status: 0 ok; 1 a broken chain (--verify) or an unreadable file; 2 a usage error.
`;

/**
 * `callguard tail`: follows or searches the decision log for operators. Reads standard input, one
 * file (followed across rotation) or several (read in order), filters, and prints readable lines or
 * the original JSON lines; with `--verify`, checks the hash chain on the way.
 */
export async function runTail(args: string[]): Promise<number> {
  const parsed = parseTailArgs(args, Date.now());
  if (!parsed.ok) {
    process.stderr.write(`callguard tail: ${parsed.problem}\n\n${USAGE}`);
    return 2;
  }
  const options = parsed.options;
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const output = createOutput(process.stdout);
  const pipeline = createTailPipeline({
    filter: createLineFilter(options.criteria),
    json: options.json,
    style: createStyle(!options.json && wantsColor(process.stdout.isTTY, options.noColor, process.env)),
    errStyle: createStyle(wantsColor(process.stderr.isTTY, options.noColor, process.env)),
    ...(options.verify ? { verifier: createChainVerifier() } : {}),
    out: output.write,
    err: (text) => process.stderr.write(text),
  });

  const stopping = new AbortController();
  const stop = (): void => stopping.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // A reader that went away (`| head`): nothing more to say to it.
  process.stdout.on('error', stop);
  let unreadable = false;
  try {
    if (options.mode === 'follow') unreadable = !(await follow(options, pipeline.push, output.flush, stopping.signal));
    else if (options.mode === 'stdin') {
      if (process.stdin.isTTY) process.stderr.write('callguard tail: reading standard input (give a FILE to follow one; --help)\n');
      await readStream(process.stdin, (line, bytes) => pipeline.push({ file: '-', line }, bytes, true), output.flush, stopping.signal);
    } else unreadable = !(await readFiles(options, pipeline.push, output.flush, stopping.signal));
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  await output.flush();
  return finish(pipeline.end(), options, unreadable);
}

type Push = ReturnType<typeof createTailPipeline>['push'];

/** Follows the one file until a signal; false when it cannot be read. */
async function follow(options: TailOptions, push: Push, flush: () => Promise<void>, signal: AbortSignal): Promise<boolean> {
  const [file] = options.files as [string];
  let follower: Awaited<ReturnType<typeof followFile>>;
  try {
    follower = await followFile(file, {
      from: options.criteria.since !== undefined ? 'start' : { lastLines: options.lines },
      onLine: (place, bytes) => push(place, bytes),
      onNote: (text) => process.stderr.write(`callguard tail: ${text}\n`),
      afterChunk: flush,
    });
  } catch (err) {
    process.stderr.write(`callguard tail: ${file}: cannot read: ${describe(err)}\n`);
    return false;
  }
  if (!signal.aborted) await once(signal, 'abort');
  await follower.stop();
  return true;
}

/** Reads the files in order; false when one could not be read (the others are still read). */
async function readFiles(options: TailOptions, push: Push, flush: () => Promise<void>, signal: AbortSignal): Promise<boolean> {
  let files = options.files;
  if (options.rotated !== undefined) {
    try {
      files = rotatedFiles(options.rotated);
    } catch (err) {
      process.stderr.write(`callguard tail: ${options.rotated}: cannot list its rotated files: ${describe(err)}\n`);
      return false;
    }
  }
  let ok = true;
  for (const file of files) {
    if (signal.aborted) break;
    try {
      await readStream(createReadStream(file), (line, bytes) => push({ file, line }, bytes), flush, signal);
    } catch (err) {
      process.stderr.write(`callguard tail: ${file}: cannot read: ${describe(err)}\n`);
      ok = false;
    }
  }
  return ok;
}

/** Reads a stream to its end, or until the signal (which ends it quietly). */
async function readStream(stream: Readable, onLine: (line: number, bytes: Buffer) => void, flush: () => Promise<void>, signal: AbortSignal): Promise<void> {
  try {
    await readLines(addAbortSignal(signal, stream), onLine, flush);
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}

function finish(summary: TailSummary, options: TailOptions, unreadable: boolean): number {
  if (summary.unparseable > 0) process.stderr.write(`callguard tail: ${summary.unparseable} unparseable line(s), shown on standard error\n`);
  const chain = summary.chain;
  if (options.verify && chain !== undefined) {
    if (chain.problem !== undefined) {
      process.stderr.write(`callguard tail: chain broken: ${chain.problem.file}:${chain.problem.line}: ${chain.problem.problem}\n`);
      return 1;
    }
    const span = chain.firstSeq === null ? 'no chained lines' : `seq ${chain.firstSeq}–${chain.lastSeq}`;
    process.stderr.write(`callguard tail: chain ok: ${chain.lines} lines (${span})\n`);
  }
  return unreadable ? 1 : 0;
}

/** Standard output, written once per chunk read, waiting when the reader is slower than the files. */
function createOutput(stream: NodeJS.WriteStream) {
  let pending: string[] = [];
  return {
    write(text: string): void {
      pending.push(text);
    },
    async flush(): Promise<void> {
      if (pending.length === 0 || stream.destroyed) return;
      const text = pending.join('');
      pending = [];
      if (!stream.write(text)) await Promise.race([once(stream, 'drain'), once(stream, 'close')]);
    },
  };
}

function describe(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
}
