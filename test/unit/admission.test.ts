import { describe, expect, it } from 'vitest';
import { createAdmission } from '../../src/admission.js';
import type { DecisionLog } from '../../src/decision-log/create-decision-log.js';

function fakeLog(accepting: () => boolean) {
  const refused: string[] = [];
  const log = { accepting, noteRefused: (code: string) => void refused.push(code) } as unknown as DecisionLog;
  return { log, refused };
}

describe('createAdmission: bounded work in flight, refusals counted', () => {
  it('admits up to maxInFlight, refuses the next at once with ERR_OVERLOADED, admits again once one is released', () => {
    const { log, refused } = fakeLog(() => true);
    const admission = createAdmission({ maxInFlight: 2, log });
    expect([admission.admit(), admission.admit(), admission.admit()]).toEqual([undefined, undefined, 'ERR_OVERLOADED']);
    expect(admission.inFlight).toBe(2);
    admission.release();
    expect(admission.admit()).toBeUndefined();
    expect(refused).toEqual(['ERR_OVERLOADED']);
  });

  it('refuses with ERR_DECISION_LOG_UNAVAILABLE while the log cannot record, and admits once it can', () => {
    let ok = false;
    const { log, refused } = fakeLog(() => ok);
    const admission = createAdmission({ maxInFlight: 10, log });
    expect(admission.admit()).toBe('ERR_DECISION_LOG_UNAVAILABLE');
    expect(admission.inFlight).toBe(0);
    ok = true;
    expect(admission.admit()).toBeUndefined();
    expect(refused).toEqual(['ERR_DECISION_LOG_UNAVAILABLE']);
  });

  it('reports refusals at most once a second, with the count since the last report', () => {
    let t = 0;
    const reports: { code: string; count: number }[] = [];
    const { log } = fakeLog(() => true);
    const admission = createAdmission({ maxInFlight: 0, log, now: () => t, onRefused: ({ code, count }) => reports.push({ code, count }) });
    t = 1000;
    for (let i = 0; i < 5; i++) admission.admit();
    t = 1999;
    admission.admit();
    t = 2000;
    admission.admit();
    expect(reports).toEqual([
      { code: 'ERR_OVERLOADED', count: 1 },
      { code: 'ERR_OVERLOADED', count: 6 },
    ]);
  });
});
