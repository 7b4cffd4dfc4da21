import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DestinationStream } from 'pino';
import { describe, expect, it } from 'vitest';
import { createDecisionLog } from '../../../src/decision-log/create-decision-log.js';
import { createIsoClock, formatDecisionLine } from '../../../src/decision-log/decision-line.js';
import type { DecisionRecord } from '../../../src/decision-log/decision-record.js';

const record = (i: number, extra: Record<string, unknown> = {}) =>
  ({ decisionId: `d-${i}`, outcome: 'allow', status: 200, code: null, principal: null, ...extra }) as unknown as DecisionRecord;

/** Polls `condition` until true or 10 s (a loaded machine can stall the thread pool's writes). */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('formatDecisionLine', () => {
  it('writes the pino line shape: level, time, the record in order, msg', () => {
    const line = formatDecisionLine(record(1, { payload: { bytes: 3, fields: { '/a': 'x"y\\z\n' } } }), '2026-11-29T00:00:00.000Z');
    expect(line.endsWith('}\n')).toBe(true);
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(Object.keys(JSON.parse(line))).toEqual(['level', 'time', 'decisionId', 'outcome', 'status', 'code', 'principal', 'payload', 'msg']);
    expect(JSON.parse(line)).toMatchObject({ level: 'info', time: '2026-11-29T00:00:00.000Z', msg: 'decision', payload: { fields: { '/a': 'x"y\\z\n' } } });
  });

  it('escapes lone surrogates and control characters (every line is valid UTF-8 JSON)', () => {
    const line = formatDecisionLine(record(1, { internal: 'a\ud800b\u0000' }), 't');
    expect(line).toContain('\\ud800');
    expect(line).toContain('\\u0000');
    expect(Buffer.from(line, 'utf8').toString('utf8')).toBe(line);
  });

  it('throws on a record that is not plain data (the log then fails closed)', () => {
    expect(() => formatDecisionLine(record(1, { latencyUs: 1n }), 't')).toThrow();
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

describe('createDecisionLog to a file', () => {
  it('writes every line, and flush() hands over what is pending', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'callguard-dl-')), 'd.log');
    const log = createDecisionLog(file);
    expect(existsSync(file)).toBe(true); // opened (created) before createDecisionLog returns
    for (let i = 0; i < 100; i++) log.write(record(i));
    await new Promise((resolve) => setImmediate(resolve));
    for (let i = 100; i < 150; i++) log.write(record(i));
    log.flush(); // before the next turn: the last 50 lines are still pending here
    const read = () => readFileSync(file, 'utf8').trimEnd().split('\n');
    await until(() => read().length >= 150); // the first turn's write may still be in flight
    const lines = read();
    // flushSync may land before a write still in flight (sonic-boom): every line, each exactly once.
    const ids = lines.map((l) => Number(JSON.parse(l).decisionId.slice(2)));
    expect(ids.sort((a, b) => a - b)).toEqual(Array.from({ length: 150 }, (_, i) => i));
    expect(log.healthy()).toBe(true);
  });

  it.each([
    { name: 'process.exit', end: 'process.exit(0);' },
    { name: 'an uncaught exception', end: "setImmediate(() => { throw new Error('boom'); });" },
  ])('writes lines still batched when the process ends by $name', ({ end }) => {
    const dir = mkdtempSync(join(tmpdir(), 'callguard-dl-exit-'));
    const file = join(dir, 'd.log');
    const script = join(dir, 'child.ts');
    const source = new URL('../../../src/decision-log/create-decision-log.ts', import.meta.url).pathname;
    writeFileSync(
      script,
      `import { createDecisionLog } from ${JSON.stringify(source)};
const log = createDecisionLog(${JSON.stringify(file)});
const wait = setInterval(() => {}, 1000);
setTimeout(() => {
  log.write(${JSON.stringify(record(7))});
  ${end}
}, 0);
void wait;
`,
    );
    spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 50_000 });
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l).decisionId)).toEqual(['d-7']);
  }, 60_000);

  it('fails closed when a stream passed in throws', () => {
    const why: string[] = [];
    const log = createDecisionLog({ write: () => { throw new Error('EIO'); } } as unknown as DestinationStream, (w) => why.push(w));
    log.write(record(1));
    expect(log.healthy()).toBe(false);
    expect(why).toEqual(['decision log write failed: EIO']);
  });

  it('fails closed when a record cannot be serialized', () => {
    const why: string[] = [];
    const log = createDecisionLog(join(mkdtempSync(join(tmpdir(), 'callguard-dl-')), 'd.log'), (w) => why.push(w));
    log.write(record(1, { latencyUs: 1n }));
    expect(log.healthy()).toBe(false);
    expect(why).toEqual([expect.stringMatching(/^decision record could not be serialized/)]);
  });
});
