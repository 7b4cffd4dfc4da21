import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { rotatedFiles } from '../../src/decision-log/log-sink.js';
import { type DecisionShape, openTestLog } from '../helpers/decision-log-files.js';

const CLI = join(import.meta.dirname, '../../src/cli/main.ts');
// One process (no tsx wrapper in between), so signals reach callguard itself.
const NODE_ARGS = ['--import', 'tsx', CLI, 'tail'];

interface Tail {
  readonly child: ChildProcessWithoutNullStreams;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | null>;
}

function startTail(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Tail {
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], { env });
  const tail: Tail = { child, stdout: '', stderr: '', exited: once(child, 'exit').then(([code]) => code as number | null) };
  child.stdout.on('data', (d: Buffer) => (tail.stdout += d));
  child.stderr.on('data', (d: Buffer) => (tail.stderr += d));
  return tail;
}

async function runTail(args: readonly string[], stdin?: string) {
  const tail = startTail(args);
  tail.child.stdin.end(stdin ?? '');
  const code = await tail.exited;
  return { code, stdout: tail.stdout, stderr: tail.stderr };
}

/** Polls `condition` until it holds or the deadline passes (then fails naming `what`). */
async function waitFor(what: string, condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const ids = (from: number, count: number, extra: Partial<DecisionShape> = {}): DecisionShape[] =>
  Array.from({ length: count }, (_, i) => ({ id: `d-${from + i}`, ...extra }));
const jsonLines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { msg: string; decisionId?: string; time: string });
const decisionIds = (text: string) => jsonLines(text).flatMap((l) => (l.msg === 'decision' ? [l.decisionId] : []));
const filesText = (path: string) =>
  rotatedFiles(path)
    .map((f) => readFileSync(f, 'utf8'))
    .join('');

describe('callguard tail: following a file', () => {
  it('follows it while another process appends and rotates it twice (rename + new file): every line once, in order', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'callguard-tail-')), 'decisions.log');
    const { log, append } = openTestLog(path);
    await append(ids(0, 5));
    const tail = startTail(['--json', '--since', '1d', '--verify', path]);
    await waitFor('the lines already there', () => tail.stdout.includes('"d-4"'));
    let next = 5;
    /** The next ten decisions, written. */
    const appendTen = async (): Promise<void> => {
      const batch = ids(next, 10);
      next += 10;
      await append(batch);
    };
    for (const round of [1, 2]) {
      for (let i = 0; i < 4; i++) await appendTen();
      renameSync(path, `${path}.00000${round}`);
      // The log still holds the renamed file open: these lines land in it, after the rename.
      await appendTen();
      log.reopen();
      for (let i = 0; i < 4; i++) await appendTen();
      await waitFor(`round ${round}`, () => tail.stdout.includes(`"d-${next - 1}"`));
    }
    await log.close();
    const expected = filesText(path);
    await waitFor('every line', () => tail.stdout.length >= expected.length);
    tail.child.kill('SIGINT');
    expect(await tail.exited).toBe(0);
    expect(tail.stdout).toBe(expected);
    expect(decisionIds(tail.stdout)).toEqual(ids(0, next).map((d) => d.id));
    expect(tail.stderr.match(/replaced by a new file/g)).toHaveLength(2);
    expect(tail.stderr).toMatch(/chain ok: \d+ lines \(seq 0–/);
  });

  it('starts at the last --lines N and exits cleanly on SIGTERM', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'callguard-tail-')), 'decisions.log');
    const { log, append } = openTestLog(path);
    await append(ids(0, 20));
    const tail = startTail(['--json', '-n', '3', path]);
    await waitFor('the last lines', () => tail.stdout.includes('"d-19"'));
    await append(ids(20, 1));
    await waitFor('a new line', () => tail.stdout.includes('"d-20"'));
    await log.close();
    tail.child.kill('SIGTERM');
    expect(await tail.exited).toBe(0);
    expect(decisionIds(tail.stdout)).toEqual(['d-17', 'd-18', 'd-19', 'd-20']);
  });
});

describe('callguard tail: forensics over rotated files', () => {
  const T0 = Date.parse('2026-12-02T19:00:00.000Z');
  let path: string;
  beforeAll(async () => {
    path = join(mkdtempSync(join(tmpdir(), 'callguard-tail-')), 'decisions.log');
    let now = T0;
    const { log, append } = openTestLog(path, { now: () => now, rotate: { maxBytes: 4000 } });
    // One decision a minute for an hour; bob calls every fifth, every seventh is denied.
    for (let i = 0; i < 60; i++) {
      now = T0 + i * 60_000;
      await append([{ id: `d-${i}`, subject: i % 5 === 0 ? 'bob' : 'alice', ...(i % 7 === 0 ? { deny: { status: 403, code: 'ERR_NOT_PERMITTED' } } : {}) }]);
    }
    await log.close();
    expect(rotatedFiles(path).length).toBeGreaterThan(3);
  });
  const range = (from: number, to: number, keep: (i: number) => boolean = () => true) =>
    Array.from({ length: to - from + 1 }, (_, k) => from + k)
      .filter(keep)
      .map((i) => `d-${i}`);

  it.each([
    {
      name: '--rotated, a window',
      args: () => ['--rotated', path, '--since', '2026-12-02T19:10:00Z', '--until', '2026-12-02T19:30:00Z'],
      expected: range(10, 30),
    },
    {
      name: 'files oldest first, a window',
      args: () => [...rotatedFiles(path), '--since', '2026-12-02T19:10:30Z', '--until', '2026-12-02T19:12:00Z'],
      expected: range(11, 12),
    },
    {
      name: 'a window and a subject',
      args: () => ['--rotated', path, '--since', '2026-12-02T19:00:00Z', '--until', '2026-12-02T19:30:00Z', '--subject', 'bob'],
      expected: range(0, 30, (i) => i % 5 === 0),
    },
    { name: 'denials only', args: () => ['--rotated', path, '--outcome', 'deny', '--code', 'ERR_NOT_PERMITTED'], expected: range(0, 59, (i) => i % 7 === 0) },
    { name: 'until, without since', args: () => ['--rotated', path, '--until', '2026-12-02T19:02:00Z'], expected: range(0, 2) },
  ])('$name: exactly the decisions asked for, then exit 0', async ({ args, expected }) => {
    const result = await runTail(['--json', ...args()]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(decisionIds(result.stdout)).toEqual(expected);
  });

  it('prints one readable line per decision, without colour on a pipe', async () => {
    const result = await runTail(['--rotated', path, '--since', '2026-12-02T19:14:00Z', '--until', '2026-12-02T19:14:00Z']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      '2026-12-02T19:14:00.000Z DENY 403 ERR_NOT_PERMITTED orders.create      alice (https://issuer.example.test) POST /orders 716µs id=d-14\n',
    );
  });
});

describe('callguard tail: standard input', () => {
  it('reads `docker compose logs` output: prefixes and colours stripped, the operational log kept out of the chain, non-JSON marked', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'callguard-tail-')), 'decisions.log');
    const { log, append } = openTestLog(path);
    await append([...ids(0, 3), { id: 'd-3', deny: { status: 401, code: 'ERR_UNAUTHENTICATED' } }, ...ids(4, 2)]);
    await log.close();
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    lines.splice(
      2,
      0,
      '{"level":"info","time":"2026-12-02T19:54:30.000Z","address":"0.0.0.0:9191","msg":"callguard listening"}',
      'node: a warning that is not JSON',
    );
    const docker = lines.map((l, i) => (i % 2 === 0 ? `\x1b[36mcallguard-1  | \x1b[0m${l}` : `callguard-1  | ${l}`)).join('\n');

    const all = await runTail(['--verify', '--json'], `${docker}\n`);
    expect(all.code).toBe(0);
    expect(jsonLines(all.stdout).map((l) => l.msg)).toEqual([
      'decision-log-start',
      'decision',
      'callguard listening',
      'decision',
      'decision',
      'decision',
      'decision',
      'decision',
    ]);
    expect(all.stderr).toMatch(/unparseable \(not JSON\) -:4: callguard-1 {2}\| node: a warning that is not JSON/);
    expect(all.stderr).toMatch(/1 unparseable line\(s\)/);
    expect(all.stderr).toMatch(/chain ok: 7 lines/);

    const denials = await runTail(['-', '--outcome', 'deny'], docker);
    expect(denials.code).toBe(0);
    expect(denials.stdout).toMatch(/^\S+ DENY 401 ERR_UNAUTHENTICATED orders\.create +alice \(https:\/\/issuer\.example\.test\) POST \/orders 716µs id=d-3\n$/);
  });
});

describe('callguard tail --verify', () => {
  let path: string;
  beforeAll(async () => {
    path = join(mkdtempSync(join(tmpdir(), 'callguard-tail-')), 'decisions.log');
    const { log, append } = openTestLog(path, { rotate: { maxBytes: 3000 } });
    await append(ids(0, 20));
    await log.close();
  });
  /** Copies the rotated set, changing line `index` (0-based) of file `file` with `change`; returns the copy's files. */
  const tampered = (file: number, change: (lines: string[]) => void): string[] => {
    const dir = mkdtempSync(join(tmpdir(), 'callguard-tampered-'));
    return rotatedFiles(path).map((f, i) => {
      const lines = readFileSync(f, 'utf8').split('\n');
      if (i === file) change(lines);
      const copy = join(dir, `decisions.log.${i}`);
      writeFileSync(copy, lines.join('\n'));
      return copy;
    });
  };

  it.each([
    { name: 'intact', files: () => rotatedFiles(path), code: 0, stderr: /chain ok: \d+ lines \(seq 0–\d+\)/ },
    {
      name: 'a decision altered',
      files: () =>
        tampered(1, (l) => {
          l[2] = (l[2] as string).replace('"allow"', '"deny"');
        }),
      code: 1,
      stderr: /WARNING: decision log chain broken at \S+decisions\.log\.1:4: prev is not the hash/,
    },
    {
      name: 'a line deleted',
      files: () => tampered(1, (l) => void l.splice(2, 1)),
      code: 1,
      stderr: /chain broken: \S+decisions\.log\.1:3: seq \d+ where \d+ was expected/,
    },
  ])('$name: exit $code', async ({ files, code, stderr }) => {
    const result = await runTail(['--verify', '--outcome', 'allow', ...files()]);
    expect(result.stderr).toMatch(stderr);
    expect(result.code).toBe(code);
  });
});

describe('callguard tail: usage and unreadable files', () => {
  it.each([
    { name: 'an unknown option', args: ['--colour'], code: 2, stderr: /Unknown option '--colour'/ },
    { name: 'a bad outcome', args: ['--outcome', 'maybe'], code: 2, stderr: /--outcome "maybe": must be allow, deny or would-deny/ },
    { name: 'a bad time', args: ['--since', 'yesterday'], code: 2, stderr: /--since "yesterday": not an ISO-8601 time/ },
    { name: 'a missing file', args: ['--no-follow', '/nonexistent/decisions.log'], code: 1, stderr: /\/nonexistent\/decisions\.log: cannot read: ENOENT/ },
    { name: 'a missing file to follow', args: ['/nonexistent/decisions.log'], code: 1, stderr: /\/nonexistent\/decisions\.log: cannot read: ENOENT/ },
  ])('$name: exit $code', async ({ args, code, stderr }) => {
    const result = await runTail(args);
    expect(result.stderr).toMatch(stderr);
    expect(result.code).toBe(code);
  });
});
