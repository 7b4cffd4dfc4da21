import { describe, it } from 'vitest';

/**
 * `describe` for suites that need a program on this machine (Envoy, redis-server, rsyslog): skipped on a
 * workstation without it, with the reason in the suite's name; in CI (`CI` set) a suite that cannot run is
 * a failing test, never a silent skip.
 */
export function describeNeeding(need: { readonly missing: string | undefined; readonly install: string }, name: string, body: () => void): void {
  const { missing, install } = need;
  if (missing === undefined) describe(name, body);
  else if (process.env['CI']) {
    describe(name, () => {
      it(`has what it needs installed (${install})`, () => {
        throw new Error(`${missing}; this suite must not be skipped in CI`);
      });
    });
  } else describe.skip(`${name} (${missing})`, body);
}
