import { closeSync, constants, fstatSync, fsync, mkdirSync, openSync, readdirSync, renameSync, statSync, write, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type ChainPosition, chainTailOf } from './hash-chain.js';

/**
 * Where decision-log bytes go. One write at a time (the decision log never overlaps them): `done`
 * is called once the OS accepted every byte (`written`), or with the error; `torn` says some bytes
 * of this write did reach the destination before the error (a line may be cut in two there).
 */
export interface LogSink {
  /** For messages: the path, `stdout`, `stderr` or `stream`. */
  readonly name: string;
  write(data: Buffer, done: (err: NodeJS.ErrnoException | undefined, torn: boolean) => void): void;
  /** fsync(2) of what was written; only regular files can (checked when the sink is opened). */
  sync(done: (err: NodeJS.ErrnoException | undefined) => void): void;
  /** Best effort on process exit (nothing can wait then). */
  writeSync(data: Buffer): void;
  /** Close and open the path again at the next write (SIGHUP, after an external logrotate moved the file). */
  reopen(): void;
  close(): void;
  /** A regular file: where the chain of what it already holds stopped (to continue it). */
  readonly chainTail?: () => ChainPosition & { readonly torn: boolean };
  /**
   * A regular file: renames it to the next numbered file (`decisions.log.000001`, …) and opens a
   * new one at the path; returns the rotated file's name. Called only with no write in flight.
   */
  readonly rotate?: () => string;
}

/** A pino-style destination (tests, `callguard check`): `write(string)` accepts a line or throws. */
export interface LineStream {
  write(text: string): unknown;
}

/** Retry delays for EAGAIN (a non-blocking pipe or FIFO whose reader is slow or stopped). */
const EAGAIN_FIRST_MS = 2;
const EAGAIN_MAX_MS = 100;

/**
 * Opens `destination`: `stdout`, `stderr`, or a path (created with its directory, appended to).
 * Throws a plain Error naming the problem (the caller turns it into a config problem):
 * - a FIFO is opened without blocking; with no reader yet, that fails at once (ENXIO) and is refused,
 *   instead of hanging start-up until a reader comes;
 * - a socket or block device is refused;
 * - `fsync` needs a regular file: pipes, terminals and character devices cannot be fsync'ed.
 */
export function openLogSink(destination: string, options: { fsync: boolean }): LogSink {
  if (destination === 'stdout' || destination === 'stderr') {
    const fd = destination === 'stdout' ? 1 : 2;
    if (options.fsync && !fstatSync(fd).isFile()) throw new Error(`durability "fsync" needs a regular file, and ${destination} is not one`);
    return createFdSink(destination, () => fd, false);
  }
  const open = (): number => openDestination(destination);
  const fd = open();
  if (options.fsync && !fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new Error(`durability "fsync" needs a regular file, and ${JSON.stringify(destination)} is not one`);
  }
  const regular = fstatSync(fd).isFile();
  let first: number | undefined = fd;
  const sink = createFdSink(
    destination,
    () => {
      if (first !== undefined) {
        const f = first;
        first = undefined;
        return f;
      }
      return open();
    },
    true,
  );
  if (!regular) return sink;
  return {
    ...sink,
    chainTail: () => chainTailOf(destination),
    rotate() {
      const rotated = `${destination}.${String(nextRotationNumber(destination)).padStart(6, '0')}`;
      renameSync(destination, rotated);
      sink.reopen();
      return rotated;
    },
  };
}

/** One more than the highest `<name>.<digits>` beside `path`. */
function nextRotationNumber(path: string): number {
  const name = basename(path);
  let highest = 0;
  for (const entry of readdirSync(dirname(path))) {
    if (!entry.startsWith(`${name}.`)) continue;
    const suffix = entry.slice(name.length + 1);
    if (/^[0-9]{1,15}$/.test(suffix)) highest = Math.max(highest, Number(suffix));
  }
  return highest + 1;
}

/** Rotated files of `path`, oldest first, then `path` itself: the order `verify-log` and `tail` read them in. */
export function rotatedFiles(path: string): string[] {
  const name = basename(path);
  const numbered = readdirSync(dirname(path))
    .filter((entry) => entry.startsWith(`${name}.`) && /^[0-9]{1,15}$/.test(entry.slice(name.length + 1)))
    .sort((a, b) => Number(a.slice(name.length + 1)) - Number(b.slice(name.length + 1)))
    .map((entry) => join(dirname(path), entry));
  return [...numbered, path];
}

function openDestination(path: string): number {
  let kind: 'missing' | 'file' | 'fifo' | 'char' | 'other' = 'missing';
  try {
    const stat = statSync(path);
    kind = stat.isFile() ? 'file' : stat.isFIFO() ? 'fifo' : stat.isCharacterDevice() ? 'char' : 'other';
    if (stat.isDirectory()) throw new Error(`${JSON.stringify(path)} is a directory`);
    if (kind === 'other') throw new Error(`${JSON.stringify(path)} is a socket or block device; use a file, a FIFO, stdout or stderr`);
  } catch (err) {
    // Missing (or under a non-directory): mkdir and open below report the system's own error.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
  }
  if (kind === 'fifo') {
    try {
      // O_NONBLOCK: open(2) of a FIFO for writing blocks until a reader opens it; non-blocking, it fails with ENXIO.
      return openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENXIO') throw new Error(`${JSON.stringify(path)} is a FIFO with no reader; start its reader first`);
      throw err;
    }
  }
  if (kind === 'missing') mkdirSync(dirname(path), { recursive: true });
  return openSync(path, 'a');
}

/**
 * A sink over a file descriptor. `nextFd` gives the descriptor to use (again after `reopen`).
 * EAGAIN (a non-blocking pipe whose reader is not reading) is retried with backoff: the write stays
 * in flight, and the decision log judges a write in flight too long as a stalled sink.
 */
function createFdSink(name: string, nextFd: () => number, owned: boolean): LogSink {
  let fd: number | undefined;
  let reopenWanted = false;
  const current = (): number => {
    if (reopenWanted && owned && fd !== undefined) {
      reopenWanted = false;
      const old = fd;
      fd = undefined;
      try {
        closeSync(old);
      } catch {
        // Already closed or invalid: the open below decides.
      }
    }
    if (fd === undefined) fd = nextFd();
    return fd;
  };
  return {
    name,
    write(data, done) {
      let target: number;
      try {
        target = current();
      } catch (err) {
        done(err as NodeJS.ErrnoException, false);
        return;
      }
      let offset = 0;
      let delay = EAGAIN_FIRST_MS;
      const step = (): void => {
        write(target, data, offset, data.length - offset, null, (err, n) => {
          if (err) {
            if (err.code === 'EAGAIN') {
              setTimeout(step, delay);
              delay = Math.min(delay * 2, EAGAIN_MAX_MS);
              return;
            }
            done(err, offset > 0);
            return;
          }
          offset += n;
          delay = EAGAIN_FIRST_MS;
          if (offset < data.length) step();
          else done(undefined, false);
        });
      };
      step();
    },
    sync(done) {
      if (fd === undefined) {
        done(undefined);
        return;
      }
      fsync(fd, (err) => done(err ?? undefined));
    },
    writeSync(data) {
      const target = current();
      let offset = 0;
      for (let tries = 0; offset < data.length && tries < 1000; tries++) {
        try {
          offset += writeSync(target, data, offset, data.length - offset);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        }
      }
      if (offset < data.length) throw Object.assign(new Error(`wrote ${offset} of ${data.length} bytes (the reader is not reading)`), { code: 'EAGAIN' });
    },
    reopen() {
      reopenWanted = true;
    },
    close() {
      if (owned && fd !== undefined) {
        try {
          closeSync(fd);
        } catch {
          // Closing is best effort at shutdown.
        }
      }
      fd = undefined;
    },
  };
}

/** A sink over a line stream (tests, `check`): accepted once `write` returns. */
export function streamSink(stream: LineStream): LogSink {
  const put = (data: Buffer): NodeJS.ErrnoException | undefined => {
    try {
      stream.write(data.toString('utf8'));
      return undefined;
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  };
  const events = stream as { on?: (event: string, listener: (err: Error) => void) => void };
  let failed: NodeJS.ErrnoException | undefined;
  events.on?.('error', (err) => {
    failed = err;
  });
  return {
    name: 'stream',
    write(data, done) {
      const err = failed ?? put(data);
      failed = undefined;
      done(err, false);
    },
    sync: (done) => done(undefined),
    writeSync(data) {
      put(data);
    },
    reopen() {},
    close() {},
  };
}
