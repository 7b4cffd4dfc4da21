import { describe, expect, it } from 'vitest';
import { createLineFilter, type LineCriteria } from '../../../src/tail/create-line-filter.js';
import type { LogLine } from '../../../src/tail/parse-log-line.js';

const at = (time: string) => ({ time, ms: Date.parse(time) });
const decision = (time: string, fields: Record<string, unknown>): LogLine => ({ msg: 'decision', ...at(time), fields: { msg: 'decision', ...fields } });
const event = (msg: string, time: string): LogLine => ({ msg, ...at(time), fields: { msg } });

const T = '2026-12-02T19:00:00.000Z';
const alice = decision(T, { function: 'orders.create', outcome: 'allow', code: null, principal: { issuer: 'i', subject: 'alice' } });
const bobDenied = decision(T, { function: 'orders.get', outcome: 'deny', code: 'ERR_NOT_PERMITTED', principal: { issuer: 'i', subject: 'bob' } });
const workload = decision(T, {
  function: 'billing.charge',
  outcome: 'deny',
  code: 'ERR_INPUT_INVALID',
  principal: { spiffeId: 'spiffe://example.org/billing' },
});
const anonymous = decision(T, { function: null, outcome: 'deny', code: 'ERR_UNAUTHENTICATED', principal: null });
const start = event('decision-log-start', T);
const checkpoint = event('decision-log-checkpoint', T);
const gap = event('decision-log-gap', T);
const refused = event('refused', T);
const ALL = { alice, bobDenied, workload, anonymous, start, checkpoint, gap, refused };

describe('createLineFilter', () => {
  it.each<{ name: string; criteria: LineCriteria; shown: (keyof typeof ALL)[] }>([
    { name: 'nothing asked', criteria: {}, shown: ['alice', 'bobDenied', 'workload', 'anonymous', 'start', 'checkpoint', 'gap', 'refused'] },
    { name: 'a function, exact', criteria: { functions: ['orders.get'] }, shown: ['bobDenied', 'gap', 'refused'] },
    { name: 'a function prefix', criteria: { functions: ['orders.*'] }, shown: ['alice', 'bobDenied', 'gap', 'refused'] },
    { name: 'two functions', criteria: { functions: ['orders.create', 'billing.*'] }, shown: ['alice', 'workload', 'gap', 'refused'] },
    { name: 'a prefix is not a substring', criteria: { functions: ['create*'] }, shown: ['gap', 'refused'] },
    { name: 'outcome allow', criteria: { outcome: 'allow' }, shown: ['alice', 'gap', 'refused'] },
    { name: 'outcome deny', criteria: { outcome: 'deny' }, shown: ['bobDenied', 'workload', 'anonymous', 'gap', 'refused'] },
    { name: 'codes', criteria: { codes: ['ERR_NOT_PERMITTED', 'ERR_UNAUTHENTICATED'] }, shown: ['bobDenied', 'anonymous', 'gap', 'refused'] },
    { name: 'a subject', criteria: { subjects: ['alice'] }, shown: ['alice', 'gap', 'refused'] },
    { name: 'a SPIFFE ID as the subject', criteria: { subjects: ['spiffe://example.org/billing'] }, shown: ['workload', 'gap', 'refused'] },
    { name: 'AND of criteria', criteria: { functions: ['orders.*'], outcome: 'deny', subjects: ['bob'] }, shown: ['bobDenied', 'gap', 'refused'] },
    { name: 'AND that nothing meets', criteria: { functions: ['orders.*'], outcome: 'deny', subjects: ['alice'] }, shown: ['gap', 'refused'] },
  ])('$name', ({ criteria, shown }) => {
    const filter = createLineFilter(criteria);
    expect(Object.entries(ALL).flatMap(([name, line]) => (filter(line) ? [name] : []))).toEqual(shown);
  });

  const window = { since: Date.parse('2026-12-02T19:10:00.000Z'), until: Date.parse('2026-12-02T19:20:00.000Z') };
  it.each([
    { name: 'before since', time: '2026-12-02T19:09:59.999Z', shown: false },
    { name: 'at since (inclusive)', time: '2026-12-02T19:10:00.000Z', shown: true },
    { name: 'inside', time: '2026-12-02T19:15:00.000Z', shown: true },
    { name: 'at until (inclusive)', time: '2026-12-02T19:20:00.000Z', shown: true },
    { name: 'after until', time: '2026-12-02T19:20:00.001Z', shown: false },
  ])('time window, $name: decisions, gaps and refusals alike', ({ time, shown }) => {
    const filter = createLineFilter({ ...window, outcome: 'allow' });
    expect(filter(decision(time, { outcome: 'allow' }))).toBe(shown);
    expect(filter(event('decision-log-gap', time))).toBe(shown);
    expect(filter(event('refused', time))).toBe(shown);
  });
});
