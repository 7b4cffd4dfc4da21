import { type FSWatcher, watch } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { rotatedFiles } from '../decision-log/log-sink.js';
import type { LinePlace } from '../decision-log/verify-chain.js';
import { createLineSplitter } from './create-line-splitter.js';
import { lastLinesOffset } from './last-lines-offset.js';

export interface FollowOptions {
  /** Read the file from its beginning, or from its last lines (`tail -n`). */
  readonly from: 'start' | { readonly lastLines: number };
  readonly onLine: (place: LinePlace, bytes: Buffer) => void;
  /** The file was replaced or truncated, or could not be read for a while. */
  readonly onNote: (text: string) => void;
  /** Runs after the lines of each chunk read (to wait for a slow standard output). */
  readonly afterChunk?: () => Promise<void>;
  /** The fallback poll, for file systems where `fs.watch` says nothing (NFS, some containers). */
  readonly pollMs?: number;
}

export interface Follower {
  /** Stops watching and closes the file; lines already read have been handed out. */
  stop(): Promise<void>;
}

const CHUNK = 64 * 1024;
/** After the path was replaced, the old file is still read until the new one has a line, or for this long. */
const REPLACE_GRACE_MS = 5000;

/**
 * Follows a file like `tail -F`: reads what is appended to it; when the path is replaced by a new
 * file (rotation: rename and create, or logrotate then SIGHUP) reads the old file to its end, then
 * the new one from its start; when the file is truncated, starts again from its start. Woken by
 * `fs.watch` on the directory (a watch on the file would stay with the renamed inode) and a poll.
 * Throws when the file cannot be opened at first.
 */
export async function followFile(path: string, options: FollowOptions): Promise<Follower> {
  const { onLine, onNote, afterChunk = async () => {} } = options;
  const buffer = Buffer.alloc(CHUNK);
  let file: FileHandle | undefined = await open(path, 'r');
  let identity = await file.stat();
  let position = 0;
  let line = 0;
  if (options.from !== 'start') {
    const start = await lastLinesOffset(file, options.from.lastLines);
    position = start.offset;
    line = start.linesBefore;
  }
  /** The file the lines being read come from (a rotated file read on the way, or `path`). */
  let name = path;
  let splitter = createLineSplitter((bytes) => onLine({ file: name, line: ++line }, bytes));
  let replacedSince: number | undefined;

  const readToEnd = async (from: FileHandle): Promise<void> => {
    for (;;) {
      const { bytesRead } = await from.read(buffer, 0, CHUNK, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      splitter.push(buffer.subarray(0, bytesRead));
      await afterChunk();
    }
  };
  /** Starts over at the beginning of a file: the old one's unterminated end, if any, is handed out as it is. */
  const restart = async (next: string = path): Promise<void> => {
    splitter.flush();
    await afterChunk();
    position = 0;
    line = 0;
    name = next;
    splitter = createLineSplitter((bytes) => onLine({ file: name, line: ++line }, bytes));
  };
  /** Numbered files rotated after the one followed (two rotations between checks): read whole, in order, on the way. */
  const rotatedSince = async (old: { ino: number; dev: number }): Promise<string[]> => {
    const numbered = rotatedFiles(path).slice(0, -1);
    for (const [i, candidate] of numbered.entries()) {
      const s = await stat(candidate).catch(() => undefined);
      if (s !== undefined && s.ino === old.ino && s.dev === old.dev) return numbered.slice(i + 1);
    }
    return [];
  };

  const check = async (): Promise<void> => {
    if (file === undefined) {
      try {
        file = await open(path, 'r');
      } catch {
        return; // Renamed away and not created again yet.
      }
      identity = await file.stat();
      onNote(`${path}: appeared again; following it from its start`);
    }
    const current: FileHandle = file;
    await readToEnd(current);
    let now: Awaited<ReturnType<typeof stat>>;
    try {
      now = await stat(path);
    } catch {
      return; // Moved away (rotation in progress): the old file may still grow.
    }
    if (now.ino !== identity.ino || now.dev !== identity.dev) {
      // Replaced: whatever was still written to the old file comes first. A writer that reopens on a
      // signal (logrotate `create` + SIGHUP) goes on appending to the old file until then: keep reading
      // it until the new file has a line (callguard starts each file with one), or for a grace period.
      await readToEnd(current);
      replacedSince ??= Date.now();
      if (now.size === 0 && Date.now() - replacedSince < REPLACE_GRACE_MS) return;
      replacedSince = undefined;
      const between = await rotatedSince(identity);
      await current.close();
      file = undefined;
      for (const rotated of between) {
        await restart(rotated);
        onNote(`${rotated}: rotated while it was not being read; reading it whole`);
        const handle = await open(rotated, 'r');
        try {
          await readToEnd(handle);
        } finally {
          await handle.close();
        }
      }
      await restart();
      onNote(`${path}: replaced by a new file (rotated); following the new file from its start`);
      await check();
      return;
    }
    if ((await current.stat()).size < position) {
      await restart();
      onNote(`${path}: truncated; reading it again from its start`);
      await readToEnd(current);
    }
  };

  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  const wake = (): void => {
    if (stopped) return;
    if (running !== undefined) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await check();
        } catch (err) {
          onNote(`${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}; trying again`);
        }
      } while (again && !stopped);
      running = undefined;
    })();
  };

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), { persistent: true }, wake);
    watcher.on('error', () => watcher?.close());
  } catch {
    // No watch here (too many watches, an odd file system): the poll alone follows the file.
  }
  const timer = setInterval(wake, options.pollMs ?? 500);
  wake();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      watcher?.close();
      await running;
      await file?.close();
      file = undefined;
    },
  };
}
