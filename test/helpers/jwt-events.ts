/** An identity event as passed to `createJwtAuthenticator`'s `onEvent`. */
export interface IdentityEvent {
  readonly level: 'warn' | 'info';
  readonly msg: string;
  readonly issuer: string;
}

export interface EventRecorder {
  readonly events: IdentityEvent[];
  readonly onEvent: (event: IdentityEvent) => void;
  /** Resolves with the next event at `level` recorded after this call: a readiness signal, not a sleep. */
  next(level: IdentityEvent['level']): Promise<IdentityEvent>;
}

/** Records identity events in memory so tests can assert on them and wait for background work. */
export function createEventRecorder(): EventRecorder {
  const events: IdentityEvent[] = [];
  let waiters: { level: IdentityEvent['level']; resolve: (event: IdentityEvent) => void }[] = [];
  return {
    events,
    onEvent(event) {
      events.push(event);
      const ready = waiters.filter((waiter) => waiter.level === event.level);
      waiters = waiters.filter((waiter) => waiter.level !== event.level);
      for (const waiter of ready) waiter.resolve(event);
    },
    next(level) {
      return new Promise((resolve) => waiters.push({ level, resolve }));
    },
  };
}
