import { accessSync, closeSync, constants, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Why the decision log could not be opened at `destination` (an absolute path, `stdout` or `stderr`),
 * judged without creating anything, so `callguard check` refuses what `serve` would; undefined when it
 * can be. `serve` does not use this: it opens the file, which decides. An existing file is opened for
 * appending (without creating, then closed), as serve would; for a file still to be created, the
 * directory is judged with access(2), which knows the real user only, not capabilities. A symlink to a
 * missing path is judged as a missing file, so a check may pass what `serve` then refuses with the
 * open's own error.
 */
export function destinationProblem(destination: string): string | undefined {
  if (destination === 'stdout' || destination === 'stderr') return undefined;
  const existing = statOrUndefined(destination);
  if (existing !== undefined) {
    if (existing.isDirectory()) return `${JSON.stringify(destination)} is a directory`;
    return openableForAppend(destination);
  }
  // Created with its missing directories: the nearest existing ancestor must be a directory we can write in.
  let ancestor = dirname(destination);
  let stat = statOrUndefined(ancestor);
  while (stat === undefined && dirname(ancestor) !== ancestor) {
    ancestor = dirname(ancestor);
    stat = statOrUndefined(ancestor);
  }
  if (stat === undefined || !stat.isDirectory()) return `cannot create ${JSON.stringify(destination)}: ${JSON.stringify(ancestor)} is not a directory`;
  if (!writable(ancestor, constants.W_OK | constants.X_OK)) return `cannot create ${JSON.stringify(destination)}: ${JSON.stringify(ancestor)} is not writable`;
  return undefined;
}

function statOrUndefined(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function openableForAppend(file: string): string | undefined {
  try {
    // O_NONBLOCK: a FIFO without a reader fails at once instead of blocking the check.
    closeSync(openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_NONBLOCK));
    return undefined;
  } catch (err) {
    return `cannot open ${JSON.stringify(file)} for appending: ${err instanceof Error ? err.message : String(err)}`;
  }
}

function writable(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}
