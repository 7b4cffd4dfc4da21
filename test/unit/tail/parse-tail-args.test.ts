import { describe, expect, it } from 'vitest';
import { parseTailArgs } from '../../../src/tail/parse-tail-args.js';

const NOW = Date.parse('2026-12-02T20:00:00.000Z');

describe('parseTailArgs', () => {
  it.each([
    { name: 'no FILE: standard input', args: [], mode: 'stdin', files: [] },
    { name: '-: standard input', args: ['-'], mode: 'stdin', files: [] },
    { name: 'one FILE: followed', args: ['d.log'], mode: 'follow', files: ['d.log'] },
    { name: 'one FILE with --no-follow', args: ['--no-follow', 'd.log'], mode: 'files', files: ['d.log'] },
    { name: 'one FILE with --until', args: ['--until', '1h', 'd.log'], mode: 'files', files: ['d.log'] },
    { name: 'several FILEs', args: ['d.log.000001', 'd.log'], mode: 'files', files: ['d.log.000001', 'd.log'] },
    { name: '--rotated FILE', args: ['--rotated', 'd.log'], mode: 'files', files: [] },
  ])('$name: $mode', ({ args, mode, files }) => {
    const parsed = parseTailArgs(args, NOW);
    expect(parsed).toMatchObject({ ok: true, options: { mode, files } });
  });

  it('reads every filter, relative times from the clock given', () => {
    const parsed = parseTailArgs(
      [
        '--function',
        'orders.*',
        '--function',
        'billing.charge',
        '--outcome',
        'deny',
        '--code',
        'ERR_NOT_PERMITTED',
        '--code',
        'ERR_OVERLOADED',
        '--subject',
        'alice',
        '--since',
        '10m',
        '--until',
        '2026-12-02T19:55:00Z',
        '-n',
        '50',
        '--json',
        '--verify',
        '--no-color',
        'd.log',
      ],
      NOW,
    );
    expect(parsed).toEqual({
      ok: true,
      options: {
        mode: 'files',
        files: ['d.log'],
        lines: 50,
        criteria: {
          functions: ['orders.*', 'billing.charge'],
          outcome: 'deny',
          codes: ['ERR_NOT_PERMITTED', 'ERR_OVERLOADED'],
          subjects: ['alice'],
          since: Date.parse('2026-12-02T19:50:00.000Z'),
          until: Date.parse('2026-12-02T19:55:00.000Z'),
        },
        json: true,
        noColor: true,
        verify: true,
        help: false,
      },
    });
  });

  it('defaults: the last 10 lines, no filter, readable and unverified', () => {
    expect(parseTailArgs(['d.log'], NOW)).toEqual({
      ok: true,
      options: { mode: 'follow', files: ['d.log'], lines: 10, criteria: {}, json: false, noColor: false, verify: false, help: false },
    });
  });

  it.each([
    { name: 'an unknown option', args: ['--colour'], problem: /Unknown option '--colour'/ },
    { name: 'an option without its value', args: ['--since'], problem: /--since/ },
    { name: 'a bad outcome', args: ['--outcome', 'maybe'], problem: /^--outcome "maybe": must be allow, deny or would-deny$/ },
    { name: 'an unknown reason code', args: ['--code', 'ERR_OVERLAODED'], problem: /^--code "ERR_OVERLAODED": not a reason code/ },
    { name: 'a star inside a function name', args: ['--function', 'orders.*.get'], problem: /^--function "orders\.\*\.get"/ },
    { name: 'a bad --since', args: ['--since', 'yesterday'], problem: /^--since "yesterday": not an ISO-8601 time/ },
    { name: 'a bad --until', args: ['--until', '5w'], problem: /^--until "5w"/ },
    { name: 'since after until', args: ['--since', '1m', '--until', '1h'], problem: /^--since is after --until$/ },
    { name: 'a bad --lines', args: ['-n', 'ten'], problem: /^--lines "ten": must be a whole number$/ },
    { name: '--rotated with files', args: ['--rotated', 'd.log', 'other.log'], problem: /--rotated FILE/ },
    { name: '- with files', args: ['-', 'd.log'], problem: /standard input/ },
  ])('$name: a usage problem naming it', ({ args, problem }) => {
    const parsed = parseTailArgs(args, NOW);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toMatch(problem);
  });
});

describe('parseTailArgs: a date alone in --until', () => {
  it('means the whole of that day (inclusive)', () => {
    const parsed = parseTailArgs(['--since', '2026-12-02', '--until', '2026-12-02', 'a.log', 'b.log'], NOW);
    expect(parsed).toMatchObject({ ok: true, options: { criteria: { since: Date.UTC(2026, 11, 2), until: Date.UTC(2026, 11, 3) - 1 } } });
  });
});
