/** The longest wait between two listings of MCP servers that could not be listed. */
export const MAX_LISTING_RETRY_MS = 60_000;

/** When to list again: `start` (re)schedules from `delayMs`, `stop` ends it. */
export interface ToolListingRetry {
  start(delayMs: number): void;
  stop(): void;
}

/**
 * Runs `attempt` after `delayMs`, and again after twice as long (at most {@link MAX_LISTING_RETRY_MS})
 * while it resolves true (something is still unlisted). A `start` while one is scheduled or running
 * replaces it: a superseded attempt's outcome schedules nothing. `attempt` must not reject; if it does,
 * `onError` is told and the schedule goes on. Timers are unref'd: they never keep the process alive.
 */
export function createToolListingRetry(attempt: () => Promise<boolean>, onError: (err: unknown) => void): ToolListingRetry {
  let timer: NodeJS.Timeout | undefined;
  let generation = 0;
  const schedule = (delayMs: number, mine: number): void => {
    timer = setTimeout(() => {
      timer = undefined;
      attempt()
        .catch((err: unknown) => {
          onError(err);
          return true;
        })
        .then((again) => {
          if (again && mine === generation) schedule(Math.min(delayMs * 2, MAX_LISTING_RETRY_MS), mine);
        });
    }, delayMs);
    timer.unref();
  };
  return {
    start(delayMs) {
      clearTimeout(timer);
      schedule(delayMs, ++generation);
    },
    stop() {
      generation++;
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
