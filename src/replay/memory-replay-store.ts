import type { ClaimResult, ReplayStore } from './replay-store.js';

/**
 * The single-process replay store: keys with their expiry in a `Map`, swept as they expire. Bounded:
 * when `maxEntries` unexpired keys are held, a new one cannot be remembered and its call is refused
 * (`unavailable`), never allowed unremembered. One process only: replicas need a shared store.
 */
export function createMemoryReplayStore(options: { maxEntries: number; now?: () => number; sweepEveryMs?: number }): ReplayStore {
  const now = options.now ?? Date.now;
  const expiries = new Map<string, number>();
  const sweep = (): void => {
    const t = now();
    for (const [key, until] of expiries) if (until <= t) expiries.delete(key);
  };
  const timer = setInterval(sweep, options.sweepEveryMs ?? 10_000);
  timer.unref();
  return {
    claim(key, ttlMs): ClaimResult {
      const t = now();
      const until = expiries.get(key);
      if (until !== undefined && until > t) return 'replayed';
      if (until === undefined && expiries.size >= options.maxEntries) {
        sweep();
        if (expiries.size >= options.maxEntries) return 'unavailable';
      }
      expiries.set(key, t + ttlMs);
      return 'first';
    },
    close: () => clearInterval(timer),
  };
}
