/**
 * Calls refused before any decision (overload, log unavailable), counted by code since the first
 * one noted: the log summarizes them in one line a second and in a gap line, never one line each.
 */
export interface RefusedCounts {
  note(code: string): void;
  readonly size: number;
  /** Counts by code, as a line's field. */
  counts(): Record<string, number>;
  /** The fields of a `refused` summary line: since when, and the counts. */
  summary(): { readonly since: string; readonly counts: Record<string, number> };
  /** Starts counting afresh (after a summary or a gap line said them). */
  clear(): void;
}

export function createRefusedCounts(clock: () => string): RefusedCounts {
  let refused = new Map<string, number>();
  let refusedSince = '';
  return {
    note(code) {
      if (refused.size === 0) refusedSince = clock();
      refused.set(code, (refused.get(code) ?? 0) + 1);
    },
    get size() {
      return refused.size;
    },
    counts: () => Object.fromEntries(refused),
    summary: () => ({ since: refusedSince, counts: Object.fromEntries(refused) }),
    clear() {
      refused = new Map();
      refusedSince = '';
    },
  };
}
