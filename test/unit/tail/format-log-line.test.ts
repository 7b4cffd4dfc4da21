import { describe, expect, it } from 'vitest';
import { createStyle, printable, wantsColor } from '../../../src/tail/create-style.js';
import { formatLogLine } from '../../../src/tail/format-log-line.js';
import type { LogLine } from '../../../src/tail/parse-log-line.js';

const T = '2026-12-02T19:54:30.164Z';
const line = (msg: string, fields: Record<string, unknown>): LogLine => ({
  msg,
  time: T,
  ms: Date.parse(T),
  fields: { level: 'info', time: T, seq: 7, prev: 'h', ...fields, msg },
});
const allow = {
  decisionId: 'd-1',
  function: 'orders.create',
  outcome: 'allow',
  status: 200,
  code: null,
  principal: { issuer: 'https://issuer.example.test', subject: 'alice', groups: ['g'], tokenHash: 'x' },
  request: { method: 'POST', route: '/orders/{id}', params: { id: '42' } },
  latencyUs: 716,
};
const ESC = '\x1b';

describe('formatLogLine', () => {
  it.each([
    {
      name: 'an allow',
      entry: line('decision', allow),
      pieces: [T, 'ALLOW', 'orders.create', 'alice (https://issuer.example.test)', 'POST /orders/{id} id=42', '716µs', 'id=d-1'],
    },
    {
      name: 'a denial with violations and internal detail',
      entry: line('decision', {
        ...allow,
        outcome: 'deny',
        status: 400,
        code: 'ERR_INPUT_INVALID',
        violations: [
          { pointer: '/sku', keyword: 'pattern' },
          { pointer: '', keyword: 'required' },
        ],
        internal: 'ajv said no',
      }),
      pieces: ['DENY 400 ERR_INPUT_INVALID', 'violations: /sku pattern,  required', 'internal: ajv said no'],
    },
    {
      name: 'an anonymous caller, no route, a host problem',
      entry: line('decision', { ...allow, principal: null, request: { method: 'GET', route: null, hostProblem: 'multiple values' } }),
      pieces: ['anonymous', 'GET - [host: multiple values]'],
    },
    {
      name: 'a workload',
      entry: line('decision', { ...allow, principal: { spiffeId: 'spiffe://example.org/billing' } }),
      pieces: ['spiffe://example.org/billing'],
    },
    {
      name: 'a gap',
      entry: line('decision-log-gap', { level: 'error', failure: 'ENOSPC', since: T, lost: 3, refused: { ERR_DECISION_LOG_UNAVAILABLE: 812 } }),
      pieces: ['!!! GAP', 'ENOSPC', '3 line(s) lost', 'ERR_DECISION_LOG_UNAVAILABLE 812'],
    },
    {
      name: 'refused calls',
      entry: line('refused', { level: 'warn', since: T, counts: { ERR_OVERLOADED: 5, ERR_CALLER_UNTRUSTED: 1 } }),
      pieces: ['!!! REFUSED', 'ERR_OVERLOADED 5, ERR_CALLER_UNTRUSTED 1'],
    },
    {
      name: 'a start',
      entry: line('decision-log-start', { reason: 'rotate', configDigest: 'a'.repeat(64) }),
      pieces: ['log start (rotate, config aaaaaaaaaaaa…)', 'seq 7'],
    },
    { name: 'a checkpoint', entry: line('decision-log-checkpoint', { keyId: 'k1', sig: 's' }), pieces: ['checkpoint seq 7 (key k1)'] },
    {
      name: 'an operational line',
      entry: line('callguard listening', { level: 'warn', address: '0.0.0.0:9191' }),
      pieces: ['WARN callguard listening {"address":"0.0.0.0:9191"}'],
    },
  ])('$name: the key pieces, no colour when plain', ({ entry, pieces }) => {
    const text = formatLogLine(entry, createStyle(false));
    expect(text.startsWith(T)).toBe(true);
    expect(text).not.toContain(ESC);
    expect(text).not.toContain('\n');
    for (const piece of pieces) expect(text).toContain(piece);
  });

  it.each([
    { name: 'allow in green', entry: line('decision', allow), sgr: `${ESC}[32mALLOW` },
    { name: 'deny in red', entry: line('decision', { ...allow, outcome: 'deny', status: 403, code: 'ERR_NOT_PERMITTED' }), sgr: `${ESC}[31mDENY 403` },
    { name: 'refused in yellow', entry: line('refused', { since: T, counts: {} }), sgr: `${ESC}[33m` },
    { name: 'a gap in red', entry: line('decision-log-gap', { since: T, failure: 'EIO', lost: 0, refused: {} }), sgr: `${ESC}[31m` },
  ])('$name with colour on', ({ entry, sgr }) => {
    expect(formatLogLine(entry, createStyle(true))).toContain(sgr);
  });

  it('never prints a control character from the log (no terminal escapes planted in a subject)', () => {
    const text = formatLogLine(line('decision', { ...allow, principal: { issuer: 'i', subject: `eve${ESC}[2J\r` } }), createStyle(false));
    expect(text).toContain('eve\\u001b[2J\\u000d');
    expect([...text].filter((c) => c.charCodeAt(0) < 0x20)).toEqual([]);
    expect(printable('a\u009bb')).toBe('a\\u009bb');
  });
});

describe('wantsColor', () => {
  it.each([
    { name: 'a terminal', isTTY: true, flag: false, env: {}, color: true },
    { name: 'a pipe', isTTY: undefined, flag: false, env: {}, color: false },
    { name: '--no-color', isTTY: true, flag: true, env: {}, color: false },
    { name: 'NO_COLOR=1', isTTY: true, flag: false, env: { NO_COLOR: '1' }, color: false },
    { name: 'NO_COLOR empty (ignored, as no-color.org says)', isTTY: true, flag: false, env: { NO_COLOR: '' }, color: true },
  ])('$name: $color', ({ isTTY, flag, env, color }) => {
    expect(wantsColor(isTTY, flag, env)).toBe(color);
  });
});
