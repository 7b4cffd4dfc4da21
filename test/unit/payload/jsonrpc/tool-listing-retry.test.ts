import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createToolListingRetry, MAX_LISTING_RETRY_MS } from '../../../../src/payload/jsonrpc/tool-listing-retry.js';

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

/** An attempt that answers `outcomes` in turn (true: still unlisted) and records when it ran. */
function attempts(outcomes: (boolean | Error)[]) {
  const at: number[] = [];
  const start = Date.now();
  const attempt = async (): Promise<boolean> => {
    at.push(Date.now() - start);
    const next = outcomes.shift() ?? false;
    if (next instanceof Error) throw next;
    return next;
  };
  return { attempt, at };
}

describe('createToolListingRetry', () => {
  it('retries after the first delay, then twice as long each time, until an attempt lists everything', async () => {
    const { attempt, at } = attempts([true, true, false]);
    createToolListingRetry(attempt, () => {}).start(100);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(at).toEqual([100, 300, 700]);
  });

  it('waits at most a minute between attempts', async () => {
    const { attempt, at } = attempts(Array.from({ length: 12 }, () => true));
    createToolListingRetry(attempt, () => {}).start(10_000);
    await vi.advanceTimersByTimeAsync(400_000);
    const gaps = at.slice(1).map((t, i) => t - (at[i] ?? 0));
    expect(gaps).toEqual([20_000, 40_000, ...Array.from({ length: 5 }, () => MAX_LISTING_RETRY_MS)]);
  });

  it('stop() ends it, scheduled or running (a running attempt that still lacks a listing schedules nothing)', async () => {
    let release: (v: boolean) => void = () => {};
    let calls = 0;
    const retry = createToolListingRetry(
      () => {
        calls++;
        return new Promise<boolean>((resolve) => (release = resolve));
      },
      () => {},
    );
    retry.start(100);
    await vi.advanceTimersByTimeAsync(100);
    retry.stop();
    release(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(1);
  });

  it('start() replaces the schedule: the new first delay, the old backoff forgotten', async () => {
    const { attempt, at } = attempts([true, true, true, false]);
    const retry = createToolListingRetry(attempt, () => {});
    retry.start(1000);
    await vi.advanceTimersByTimeAsync(1000); // attempt 1 at 1000, next due at 3000
    retry.start(100); // a reload left something unlisted again
    await vi.advanceTimersByTimeAsync(10_000);
    expect(at).toEqual([1000, 1100, 1300, 1700]);
  });

  it('an attempt that rejects is reported and the schedule goes on', async () => {
    const { attempt, at } = attempts([new Error('boom'), false]);
    const errors: unknown[] = [];
    createToolListingRetry(attempt, (err) => errors.push(err)).start(100);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(at).toEqual([100, 300]);
    expect(String(errors[0])).toBe('Error: boom');
  });
});
