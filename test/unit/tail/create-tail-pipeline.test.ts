import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { lineHash } from '../../../src/decision-log/hash-chain.js';
import { createChainVerifier, splitLines } from '../../../src/decision-log/verify-chain.js';
import { createLineFilter, type LineCriteria } from '../../../src/tail/create-line-filter.js';
import { createStyle } from '../../../src/tail/create-style.js';
import { createTailPipeline } from '../../../src/tail/create-tail-pipeline.js';
import { openTestLog } from '../../helpers/decision-log-files.js';

let lines: Buffer[];
beforeAll(async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'callguard-pipeline-')), 'decisions.log');
  const { log, append } = openTestLog(path);
  await append([{ id: 'd-0' }, { id: 'd-1', deny: { status: 403, code: 'ERR_NOT_PERMITTED' } }, { id: 'd-2', function: 'billing.charge' }]);
  await log.close();
  lines = [...splitLines(readFileSync(path))];
});

/** Pushes `input` through a pipeline; returns what it printed and its summary. */
function run(input: readonly Buffer[], options: { criteria?: LineCriteria; json?: boolean; verify?: boolean; interleaved?: boolean } = {}) {
  let out = '';
  let err = '';
  const pipeline = createTailPipeline({
    filter: createLineFilter(options.criteria ?? {}),
    json: options.json ?? false,
    style: createStyle(false),
    errStyle: createStyle(false),
    ...(options.verify === true ? { verifier: createChainVerifier() } : {}),
    out: (text) => (out += text),
    err: (text) => (err += text),
  });
  for (const [i, bytes] of input.entries()) pipeline.push({ file: 'decisions.log', line: i + 1 }, bytes, options.interleaved ?? false);
  const summary = pipeline.end(); // first: it may still print
  return { out, err, summary };
}

describe('createTailPipeline', () => {
  it.each([
    {
      name: 'readable, everything',
      options: {},
      shown: 4,
      out: [/--- log start/, /ALLOW orders\.create .* id=d-0/, /DENY 403 ERR_NOT_PERMITTED orders\.create .* id=d-1/, /ALLOW billing\.charge/],
    },
    { name: 'readable, filtered', options: { criteria: { outcome: 'deny' as const } }, shown: 1, out: [/^\S+ DENY 403 ERR_NOT_PERMITTED .* id=d-1\n$/] },
    {
      name: 'json, filtered: the line unchanged',
      options: { json: true, criteria: { functions: ['billing.*'] } },
      shown: 1,
      out: [/^\{"level":"info".*"decisionId":"d-2".*"msg":"decision"\}\n$/],
    },
  ])('$name', ({ options, shown, out }) => {
    const result = run(lines, options);
    expect(result.summary.shown).toBe(shown);
    for (const piece of out) expect(result.out).toMatch(piece);
    expect(result.err).toBe('');
  });

  it('prints a line that is not a log line on stderr, marked, and counts it', () => {
    const result = run([lines[0] as Buffer, Buffer.from('Segmentation fault\n'), lines[1] as Buffer]);
    expect(result.summary.unparseable).toBe(1);
    expect(result.err).toBe('unparseable (not JSON) decisions.log:2: Segmentation fault\n');
    expect(result.summary.shown).toBe(2);
  });

  it.each([
    { name: 'intact', input: () => lines, problem: undefined, warning: undefined },
    {
      name: 'a line removed',
      input: () => [lines[0], lines[2], lines[3]],
      problem: 'decisions.log:2',
      warning: /WARNING: decision log chain broken at decisions\.log:2: seq 2 where 1 was expected/,
    },
    {
      name: 'a line altered',
      input: () => [lines[0], Buffer.from((lines[1] as Buffer).toString().replace('orders.create', 'orders.delete')), lines[2], lines[3]],
      problem: 'decisions.log:3',
      warning: /chain broken at decisions\.log:3: prev is not the hash/,
    },
  ])('--verify, $name', ({ input, problem, warning }) => {
    const result = run(input() as Buffer[], { verify: true, criteria: { outcome: 'allow' } });
    const found = result.summary.chain?.problem;
    expect(found === undefined ? undefined : `${found.file}:${found.line}`).toBe(problem);
    if (warning === undefined) expect(result.err).toBe('');
    else expect(result.err.match(/WARNING/g)).toHaveLength(1);
    if (warning !== undefined) expect(result.err).toMatch(warning);
  });

  it('--verify, following from mid-file: the chain beginning earlier is a note, not a problem', () => {
    const result = run(lines.slice(2), { verify: true });
    expect(result.summary.chain?.problem).toBeUndefined();
    expect(result.err).toMatch(/^note: decisions\.log:1: the chain begins before the first line given/);
  });

  it('--verify over interleaved output: only chained lines are verified', () => {
    const ops = Buffer.from('{"level":"info","time":"2026-12-02T19:54:30.000Z","msg":"callguard listening"}\n');
    const result = run([lines[0], ops, Buffer.from('npm notice\n'), lines[1], lines[2], lines[3]] as Buffer[], { verify: true, interleaved: true });
    expect(result.summary.chain).toMatchObject({ lines: 4 });
    expect(result.summary.chain?.problem).toBeUndefined();
    expect(result.summary.unparseable).toBe(1);
  });
});

describe('createTailPipeline --verify: a failed write is not tampering', () => {
  it('warns at the damaged line, then says a later gap line accounted for it; the chain is intact', () => {
    const last = JSON.parse((lines.at(-1) as Buffer).toString()) as { seq: number };
    const gap = Buffer.from(
      `${JSON.stringify({ level: 'error', time: '2026-12-02T20:00:00.000Z', seq: last.seq + 1, prev: lineHash(lines.at(-1) as Buffer), msg: 'decision-log-gap' })}\n`,
    );
    const { err, summary } = run([...lines, Buffer.from('{"level":"info","ti\n'), gap], { verify: true });
    expect(err).toMatch(/WARNING: decision log chain broken at decisions\.log:\d+/);
    expect(err).toMatch(/every chain warning above was accounted for/);
    expect(summary.chain?.problem).toBeUndefined();
  });
});
