/**
 * Retries a remote key source's fetch in the background, once every `everyMs` while `schedule` is called
 * after each failure: for a source that never loaded. Until it loads, callguard is not ready, so no call
 * comes to trigger a retry on the request path. Its timer does not keep the process alive.
 */
export function createBackgroundRetry(retry: () => void, everyMs: number): { schedule(): void; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  return {
    schedule() {
      if (timer !== undefined) return;
      timer = setTimeout(() => {
        timer = undefined;
        retry();
      }, everyMs);
      timer.unref();
    },
    stop() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
