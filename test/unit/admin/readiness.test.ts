import { describe, expect, it } from 'vitest';
import { judgeReadiness } from '../../../src/admin/readiness.js';
import type { KeySourceStatus } from '../../../src/identity/key-source-status.js';

const fetched = (name: string, lastFetchOk = true): KeySourceStatus => ({ name, loaded: true, lastFetchOk, ageSeconds: 10 });
const never = (name: string): KeySourceStatus => ({ name, loaded: false, lastFetchOk: false, ageSeconds: undefined });

describe('judgeReadiness', () => {
  it.each([
    { name: 'no remote key source, log healthy', keys: [], logHealthy: true, stopping: false, notReady: [] },
    { name: 'every source fetched', keys: [fetched('corp'), fetched('adfs')], logHealthy: true, stopping: false, notReady: [] },
    { name: 'fetched once, failing since (keys serve until maxStaleSeconds)', keys: [fetched('corp', false)], logHealthy: true, stopping: false, notReady: [] },
    {
      name: 'a source never fetched',
      keys: [fetched('corp'), never('adfs')],
      logHealthy: true,
      stopping: false,
      notReady: [{ check: 'keys', source: 'adfs', problem: 'signing keys not fetched yet' }],
    },
    {
      name: 'the decision log failing',
      keys: [fetched('corp')],
      logHealthy: false,
      stopping: false,
      notReady: [{ check: 'decisionLog', problem: 'the decision log is failing or stalled: calls are refused' }],
    },
    {
      name: 'stopping, with everything else wrong too',
      keys: [never('corp')],
      logHealthy: false,
      stopping: true,
      notReady: [
        { check: 'shutdown', problem: 'stopping: in-flight calls are draining' },
        { check: 'keys', source: 'corp', problem: 'signing keys not fetched yet' },
        { check: 'decisionLog', problem: 'the decision log is failing or stalled: calls are refused' },
      ],
    },
  ])('$name', ({ keys, logHealthy, stopping, notReady }) => {
    const readiness = judgeReadiness({ keySources: () => keys, log: { healthy: () => logHealthy }, stopping: () => stopping });
    expect(readiness).toEqual({ ready: notReady.length === 0, notReady });
  });
});
