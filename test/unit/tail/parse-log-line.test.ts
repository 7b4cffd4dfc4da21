import { describe, expect, it } from 'vitest';
import { parseLogLine } from '../../../src/tail/parse-log-line.js';

const LINE = '{"level":"info","time":"2026-12-02T19:54:30.164Z","seq":3,"prev":"h","decisionId":"d-1","outcome":"allow","msg":"decision"}';

describe('parseLogLine', () => {
  it.each([
    { name: 'a plain line', raw: `${LINE}\n`, prefixed: false },
    { name: 'without its newline (a file cut short)', raw: LINE, prefixed: false },
    { name: 'docker compose prefix', raw: `callguard-1  | ${LINE}\n`, prefixed: true },
    { name: 'docker compose prefix in colour', raw: `\x1b[36mcallguard-1  | \x1b[0m${LINE}\n`, prefixed: true },
    { name: 'docker compose prefix with bold colour codes', raw: `\x1b[1;36mcallguard-callguard-1\x1b[0m | ${LINE}\n`, prefixed: true },
    { name: 'docker compose logs -t (a timestamp after the bar)', raw: `callguard-1  | 2026-12-02T19:54:30.164567890Z ${LINE}\n`, prefixed: true },
    { name: 'kubectl logs --prefix', raw: `[pod/callguard-7d9f/callguard] ${LINE}\n`, prefixed: true },
    { name: 'CRLF line end', raw: `${LINE}\r\n`, prefixed: false },
  ])('$name: parsed, the body starting at its brace', ({ raw, prefixed }) => {
    const parsed = parseLogLine(Buffer.from(raw));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.line).toMatchObject({ msg: 'decision', time: '2026-12-02T19:54:30.164Z', ms: Date.UTC(2026, 11, 2, 19, 54, 30, 164) });
    expect(parsed.line.fields['decisionId']).toBe('d-1');
    expect(parsed.prefixed).toBe(prefixed);
    expect(parsed.body.toString()).toBe(raw.slice(raw.indexOf('{')));
  });

  it.each([
    { name: 'plain text', raw: 'node: a warning\n', why: 'not JSON' },
    { name: 'a blank line', raw: '\n', why: 'not JSON' },
    { name: 'JSON cut short', raw: `${LINE.slice(0, 40)}\n`, why: 'not JSON' },
    { name: 'text before the JSON that is no prefix', raw: `hello world {"msg":"x","time":"2026-12-02T00:00:00Z"}\n`, why: 'not JSON' },
    { name: 'a JSON array', raw: '[{"msg":"x"}]\n', why: 'not JSON' },
    { name: 'an object without msg', raw: '{"time":"2026-12-02T00:00:00Z"}\n', why: 'not a log line (no msg or time)' },
    { name: 'an object with a bad time', raw: '{"time":"yesterday","msg":"decision"}\n', why: 'not a log line (no msg or time)' },
    { name: 'a docker prefix before text', raw: 'callguard-1  | refusing to start\n', why: 'not JSON' },
  ])('$name: not ok ($why), the text kept for showing', ({ raw, why }) => {
    const parsed = parseLogLine(Buffer.from(raw));
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.why).toBe(why);
    expect(parsed.text).toBe(raw.replace(/\n$/, ''));
  });
});

describe('parseLogLine: escape codes', () => {
  it('strips them from a docker prefix, but a body carrying raw escapes is not a log line (--json prints bodies as they are)', () => {
    const esc = String.fromCharCode(0x1b);
    const prefixed = parseLogLine(Buffer.from(`${esc}[36mcallguard-1  |${esc}[0m {"msg":"decision","time":"2026-12-02T19:54:30.164Z"}\n`));
    expect(prefixed.ok).toBe(true);
    const planted = parseLogLine(Buffer.from(`{"msg":"decision","time":"2026-12-02T19:54:30.164Z","decisionId":"x${esc}[2J${esc}[1;1H"}\n`));
    expect(planted.ok).toBe(false);
  });
});
