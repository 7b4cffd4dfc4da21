import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Why the decision log could not be opened at `destination` (an absolute path, `stdout` or `stderr`),
 * judged without creating anything, so `callguard check` refuses what `serve` would; undefined when it
 * can be. Opening still decides: this is the early, listed-with-the-rest form of the same problem.
 */
export function destinationProblem(destination: string): string | undefined {
  if (destination === 'stdout' || destination === 'stderr') return undefined;
  const existing = statOrUndefined(destination);
  if (existing !== undefined) {
    if (existing.isDirectory()) return `${JSON.stringify(destination)} is a directory`;
    return writable(destination, constants.W_OK) ? undefined : `${JSON.stringify(destination)} is not writable`;
  }
  // Created with its missing directories: the nearest existing ancestor must be a directory we can write in.
  let ancestor = dirname(destination);
  let stat = statOrUndefined(ancestor);
  while (stat === undefined && dirname(ancestor) !== ancestor) {
    ancestor = dirname(ancestor);
    stat = statOrUndefined(ancestor);
  }
  if (stat === undefined) return `no part of ${JSON.stringify(destination)} exists`;
  if (!stat.isDirectory()) return `cannot create ${JSON.stringify(destination)}: ${JSON.stringify(ancestor)} is not a directory`;
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

function writable(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}
