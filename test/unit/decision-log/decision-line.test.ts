import { describe, expect, it } from 'vitest';
import { createIsoClock, formatDecisionLine } from '../../../src/decision-log/decision-line.js';
import type { DecisionRecord } from '../../../src/decision-log/decision-record.js';

const record = (i: number, extra: Record<string, unknown> = {}) =>
  ({ decisionId: `d-${i}`, outcome: 'allow', status: 200, code: null, principal: null, ...extra }) as unknown as DecisionRecord;

describe('formatDecisionLine', () => {
  it('writes the pino line shape: level, time, the record in order, msg', () => {
    const line = formatDecisionLine(record(1, { payload: { bytes: 3, fields: { '/a': 'x"y\\z\n' } } }), '2026-11-29T00:00:00.000Z', { seq: 7, prev: 'h' });
    expect(line.endsWith('}\n')).toBe(true);
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(Object.keys(JSON.parse(line))).toEqual(['level', 'time', 'seq', 'prev', 'decisionId', 'outcome', 'status', 'code', 'principal', 'payload', 'msg']);
    expect(JSON.parse(line)).toMatchObject({
      level: 'info',
      time: '2026-11-29T00:00:00.000Z',
      seq: 7,
      prev: 'h',
      msg: 'decision',
      payload: { fields: { '/a': 'x"y\\z\n' } },
    });
  });

  it('escapes lone surrogates and control characters (every line is valid UTF-8 JSON)', () => {
    const line = formatDecisionLine(record(1, { internal: 'a\ud800b\u0000' }), 't', { seq: 0, prev: null });
    expect(line).toContain('\\ud800');
    expect(line).toContain('\\u0000');
    expect(Buffer.from(line, 'utf8').toString('utf8')).toBe(line);
  });

  it('throws on a record that is not plain data (the log then fails closed)', () => {
    expect(() => formatDecisionLine(record(1, { latencyUs: 1n }), 't', { seq: 0, prev: null })).toThrow();
  });
});

describe('createIsoClock', () => {
  it('reuses the string within a millisecond and follows the clock', () => {
    let ms = Date.UTC(2026, 10, 29);
    const clock = createIsoClock(() => ms);
    const first = clock();
    expect(first).toBe('2026-11-29T00:00:00.000Z');
    expect(clock()).toBe(first);
    ms += 1;
    expect(clock()).toBe('2026-11-29T00:00:00.001Z');
  });
});
