import { describe, expect, it } from 'vitest';
import { parseTimeArg } from '../../../src/tail/parse-time-arg.js';

const NOW = Date.parse('2026-12-02T20:00:00.000Z');

describe('parseTimeArg', () => {
  it.each([
    { name: 'ISO-8601 with Z', value: '2026-12-02T19:54:30.164Z', expected: '2026-12-02T19:54:30.164Z' },
    { name: 'ISO-8601 with an offset', value: '2026-12-02T20:54:30+01:00', expected: '2026-12-02T19:54:30.000Z' },
    { name: 'no zone: UTC, as the log', value: '2026-12-02T19:54', expected: '2026-12-02T19:54:00.000Z' },
    { name: 'a space for the T', value: '2026-12-02 19:54:30', expected: '2026-12-02T19:54:30.000Z' },
    { name: 'a date', value: '2026-12-02', expected: '2026-12-02T00:00:00.000Z' },
    { name: 'seconds back', value: '30s', expected: '2026-12-02T19:59:30.000Z' },
    { name: 'minutes back', value: '10m', expected: '2026-12-02T19:50:00.000Z' },
    { name: 'hours back', value: '2h', expected: '2026-12-02T18:00:00.000Z' },
    { name: 'days back', value: '1d', expected: '2026-12-01T20:00:00.000Z' },
  ])('$name: $value', ({ value, expected }) => {
    expect(new Date(parseTimeArg(value, NOW) as number).toISOString()).toBe(expected);
  });

  it.each([
    { name: 'a word', value: 'yesterday' },
    { name: 'an unknown unit', value: '5w' },
    { name: 'a negative span', value: '-5m' },
    { name: 'an impossible date', value: '2026-13-45' },
    { name: 'empty', value: '' },
  ])('$name: undefined', ({ value }) => {
    expect(parseTimeArg(value, NOW)).toBeUndefined();
  });
});

describe('parseTimeArg: impossible dates are refused, not rolled over', () => {
  it.each(['2026-02-30T00:00:00Z', '2026-02-31', '2026-13-01', '2026-00-10'])('%s', (value) => {
    expect(parseTimeArg(value, 0)).toBeUndefined();
  });
  it('a leap day is a date', () => {
    expect(parseTimeArg('2028-02-29', 0)).toBe(Date.UTC(2028, 1, 29));
  });
});
