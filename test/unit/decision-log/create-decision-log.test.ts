import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpointSigner } from '../../../src/decision-log/checkpoint-signer.js';
import { createDecisionLog, type DecisionLogOptions, type Durability } from '../../../src/decision-log/create-decision-log.js';
import type { DecisionRecord } from '../../../src/decision-log/decision-record.js';
import { type LogSink, openLogSink, streamSink } from '../../../src/decision-log/log-sink.js';
import { createChainVerifier } from '../../../src/decision-log/verify-chain.js';

const record = (i: number) => ({ decisionId: `d-${i}`, outcome: 'allow', status: 200 }) as unknown as DecisionRecord;
const turn = () => new Promise((resolve) => setImmediate(resolve));
/** Decision ids in `text` (JSON lines), the log's own lines left out. */
const decisionIds = (text: string) =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l))
    .filter((l) => l.msg === 'decision')
    .map((l) => l.decisionId);

/** A sink the test completes by hand: each write waits for `complete(err?)`. */
function manualSink() {
  const writes: string[] = [];
  const pending: ((err?: NodeJS.ErrnoException) => void)[] = [];
  const sink: LogSink = {
    name: 'manual',
    write(data, done) {
      writes.push(data.toString('utf8'));
      pending.push((err) => done(err, false));
    },
    sync: (done) => done(undefined),
    writeSync: (data) => void writes.push(data.toString('utf8')),
    reopen() {},
    close() {},
  };
  return {
    sink,
    writes,
    get waiting() {
      return pending.length;
    },
    complete(err?: NodeJS.ErrnoException) {
      const next = pending.shift();
      if (next === undefined) throw new TypeError('no write pending');
      next(err);
    },
  };
}

const enospc = Object.assign(new Error('no space'), { code: 'ENOSPC' });

function options(overrides: Partial<DecisionLogOptions> = {}): DecisionLogOptions {
  return { durability: 'written', maxPendingBytes: 1 << 20, maxWriteMs: 500, retryMs: 5, ...overrides };
}

describe('createDecisionLog: group commit', () => {
  it('one write carries every line appended in a turn, and commits them together once the OS accepted it', async () => {
    const m = manualSink();
    const log = createDecisionLog(m.sink, options());
    const committed: boolean[] = [];
    for (let i = 0; i < 100; i++) expect(log.append(record(i), (ok) => committed.push(ok))).toBe(true);
    await turn();
    expect(m.writes).toHaveLength(1);
    expect(committed).toEqual([]); // not answered before the write returned
    // Lines appended while a write is in flight wait for the next one.
    for (let i = 100; i < 150; i++) log.append(record(i), (ok) => committed.push(ok));
    m.complete();
    expect(committed).toHaveLength(100);
    expect(m.writes).toHaveLength(2);
    m.complete();
    expect(committed).toEqual(Array(150).fill(true));
    expect(decisionIds(m.writes.join(''))).toEqual(Array.from({ length: 150 }, (_, i) => `d-${i}`));
    expect(log.stats()).toMatchObject({ linesWritten: 151, linesLost: 0, pendingBytes: 0 }); // and the start line
    log.close();
  });

  it('buffered: calls nothing back, the lines still go out', async () => {
    const m = manualSink();
    const log = createDecisionLog(m.sink, options({ durability: 'buffered' }));
    let called = 0;
    log.append(record(1), () => called++);
    await turn();
    m.complete();
    expect(called).toBe(0);
    expect(m.writes.join('')).toContain('"d-1"');
    log.close();
  });
});

describe('createDecisionLog: a failed sink refuses only while it fails', () => {
  it('fails the batch and everything behind it, writes a gap record on recovery, then accepts again', async () => {
    const m = manualSink();
    const events: { healthy: boolean; msg: string }[] = [];
    const log = createDecisionLog(m.sink, options({ onStateChange: (e) => events.push(e) }));
    const committed: boolean[] = [];
    for (let i = 0; i < 3; i++) log.append(record(i), (ok) => committed.push(ok));
    await turn();
    log.append(record(3), (ok) => committed.push(ok)); // waits behind the write that fails
    m.complete(enospc);
    expect(committed).toEqual([false, false, false, false]);
    expect(log.accepting()).toBe(false);
    expect(log.healthy()).toBe(false);
    expect(log.append(record(4), () => committed.push(true))).toBe(false);
    log.noteRefused('ERR_DECISION_LOG_UNAVAILABLE');
    expect(events).toEqual([{ healthy: false, msg: 'decision log write to manual failed: ENOSPC; refusing calls until it works again' }]);

    await until(() => m.waiting === 1); // the retry
    m.complete(enospc); // still failing
    expect(log.healthy()).toBe(false);
    await until(() => m.waiting === 1);
    m.complete();
    expect(log.healthy()).toBe(true);
    expect(events.at(-1)).toEqual({ healthy: true, msg: 'decision log manual works again; accepting calls' });
    const gap = JSON.parse(m.writes.at(-1) as string);
    // The start line shared the failed write: 5 lines lost. Nothing was written before, so the gap line starts the chain.
    expect(gap).toMatchObject({
      level: 'error',
      seq: 0,
      prev: null,
      msg: 'decision-log-gap',
      failure: 'decision log write to manual failed: ENOSPC',
      lost: 5,
      refused: { ERR_DECISION_LOG_UNAVAILABLE: 1 },
    });
    expect(log.append(record(5), (ok) => committed.push(ok))).toBe(true);
    await turn();
    m.complete();
    expect(committed.at(-1)).toBe(true);
    expect(log.stats()).toMatchObject({ linesLost: 5, failures: 1, healthy: true });
    log.close();
  });

  /** The lines `writes` put on the file (failed writes left out), checked as one chain: [msg, seq, configDigest, reason]. */
  const chainOf = (writes: readonly string[], failed: readonly number[]) => {
    const written = writes.filter((_, i) => !failed.includes(i)).join('');
    const chain = createChainVerifier();
    for (const [i, l] of written.split('\n').slice(0, -1).entries()) chain.push({ file: 'manual', line: i + 1 }, Buffer.from(`${l}\n`));
    expect(chain.end().problem).toBeUndefined();
    return written
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l))
      .map((l) => [l.msg, l.seq, l.configDigest, l.reason]);
  };

  it('a config change whose line a failed write took is said again after the gap line', async () => {
    const m = manualSink();
    const log = createDecisionLog(m.sink, options({ configDigest: 'old' }));
    await turn();
    m.complete(); // the start line
    log.noteConfig('new');
    await turn();
    m.complete(enospc); // the write carrying the config line fails
    await until(() => m.waiting === 1);
    m.complete(); // the gap line
    await until(() => m.waiting === 1);
    m.complete(); // the config line, again
    expect(chainOf(m.writes, [1])).toEqual([
      ['decision-log-start', 0, 'old', 'start'],
      ['decision-log-gap', 1, undefined, undefined],
      ['decision-log-config', 2, 'new', 'reload'],
    ]);
    log.close();
  });

  it('two config changes during one failure: one line, the latest digest, `reload` when one of them was a reload', async () => {
    const m = manualSink();
    const log = createDecisionLog(m.sink, options({ configDigest: 'a' }));
    await turn();
    m.complete(enospc);
    log.noteConfig('b', 'reload');
    log.noteConfig('c', 'mcp-tools-listed');
    await until(() => m.waiting === 1);
    m.complete();
    await until(() => m.waiting === 1);
    m.complete();
    expect(chainOf(m.writes, [0])).toEqual([
      ['decision-log-gap', 0, undefined, undefined],
      ['decision-log-config', 1, 'c', 'reload'],
    ]);
    log.close();
  });

  it('close while the sink fails adds no checkpoint at the position the gap line takes', async () => {
    const m = manualSink();
    const { privateKey } = generateKeyPairSync('ed25519');
    const keyFile = join(mkdtempSync(join(tmpdir(), 'callguard-key-')), 'key.pem');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const log = createDecisionLog(m.sink, options({ checkpoint: { signer: loadCheckpointSigner(keyFile), everyLines: 1000, everySeconds: 3600 } }));
    await turn();
    m.complete(); // the start line
    log.append(record(1), () => {});
    await turn();
    m.complete(enospc);
    await until(() => m.waiting === 1); // the gap line's write, in flight
    const closing = log.close();
    m.complete(); // the gap line lands during close's wait
    await closing;
    expect(chainOf(m.writes, [1]).map(([msg]) => msg)).toEqual(['decision-log-start', 'decision-log-gap']);
  });

  it('a config change while the sink fails is said after the gap line, on an unbroken chain', async () => {
    const m = manualSink();
    const log = createDecisionLog(m.sink, options({ configDigest: 'old' }));
    await turn();
    m.complete(); // the start line is written
    log.append(record(1), () => {});
    await turn();
    m.complete(enospc);
    // A reload (or MCP tools listed at last) while the log cannot write.
    log.noteConfig('new', 'mcp-tools-listed');
    await until(() => m.waiting === 1); // the retry: the gap line
    m.complete();
    await until(() => m.waiting === 1); // then the config line
    m.complete();
    // The failed write (index 1) never reached the file.
    expect(chainOf(m.writes, [1])).toEqual([
      ['decision-log-start', 0, 'old', 'start'],
      ['decision-log-gap', 1, undefined, undefined],
      ['decision-log-config', 2, 'new', 'mcp-tools-listed'],
    ]);
    log.close();
  });

  it('a write pending past maxWriteMs stalls the log until it completes', async () => {
    const m = manualSink();
    let t = 0;
    const events: boolean[] = [];
    const log = createDecisionLog(m.sink, options({ now: () => t, maxWriteMs: 100, onStateChange: (e) => events.push(e.healthy) }));
    log.append(record(1), () => {});
    await turn();
    t = 100;
    expect(log.accepting()).toBe(true);
    t = 101;
    expect(log.accepting()).toBe(false);
    expect(log.healthy()).toBe(false);
    m.complete();
    expect(log.accepting()).toBe(true);
    expect(events).toEqual([false, true]);
    log.close();
  });

  it('a stalled write answers its waiting calls as refused at once, drops what queued behind it, and says so once it lands', async () => {
    const m = manualSink();
    let t = 0;
    const log = createDecisionLog(m.sink, options({ now: () => t, maxWriteMs: 100 }));
    await turn();
    m.complete(); // the start line
    const answers: boolean[] = [];
    log.append(record(1), (ok) => answers.push(ok));
    await turn();
    log.append(record(2), (ok) => answers.push(ok)); // queued behind the stuck write
    t = 101;
    expect(log.accepting()).toBe(false);
    expect(answers).toEqual([false, false]);
    m.complete(); // the stuck write lands after all
    await until(() => m.waiting === 1);
    m.complete();
    expect(JSON.parse(m.writes.at(-1) as string)).toMatchObject({ msg: 'decision-log-stall', answeredAsRefused: 1, lost: 1 });
    expect(log.accepting()).toBe(true);
    expect(answers).toEqual([false, false]); // each callback once
    await log.close();
  });

  it('close() with a write still stuck after 2 s fails what is queued instead of writing it out of order', async () => {
    const m = manualSink();
    const log = createDecisionLog(m.sink, options({ maxWriteMs: 60_000 }));
    await turn(); // the start line's write is in flight, and never completes
    const answers: boolean[] = [];
    log.append(record(1), (ok) => answers.push(ok));
    await log.close();
    expect(answers).toEqual([false]);
    expect(m.writes).toHaveLength(1);
  }, 10_000);

  it('fsync: a call is committed only after the fsync of its batch', async () => {
    const m = manualSink();
    const syncs: ((err: NodeJS.ErrnoException | undefined) => void)[] = [];
    const log = createDecisionLog({ ...m.sink, sync: (done) => void syncs.push(done) }, options({ durability: 'fsync' }));
    const answers: boolean[] = [];
    log.append(record(1), (ok) => answers.push(ok));
    await turn();
    m.complete();
    expect(answers).toEqual([]);
    syncs.shift()?.(undefined);
    expect(answers).toEqual([true]);
    await log.close();
  });

  it('at shutdown, a failed rotation stops the writing: nothing is chained onto lost lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'callguard-dl-'));
    const file = join(dir, 'd.log');
    const real = openLogSink(file, { fsync: false });
    const sink: LogSink = {
      ...real,
      rotate: () => {
        throw Object.assign(new Error('denied'), { code: 'EACCES' });
      },
    };
    const log = createDecisionLog(sink, options({ rotate: { maxBytes: 4096 } }));
    await turn();
    await turn();
    const answers: boolean[] = [];
    for (let i = 0; i < 40; i++) log.append(record(i), (ok) => answers.push(ok)); // crosses maxBytes: a rotation is queued
    await log.close(); // writes synchronously, meets the failing rotation
    expect(answers.filter((ok) => !ok).length).toBeGreaterThan(0);
    const report = createChainVerifier();
    for (const [i, l] of readFileSync(file, 'utf8').split('\n').slice(0, -1).entries()) report.push({ file, line: i + 1 }, Buffer.from(`${l}\n`));
    expect(report.end().problem).toBeUndefined();
    expect(decisionIds(readFileSync(file, 'utf8'))).toEqual(answers.flatMap((ok, i) => (ok ? [`d-${i}`] : [])));
  });

  it.each<{ name: string; durability: Durability }>([
    { name: 'buffered', durability: 'buffered' },
    { name: 'written', durability: 'written' },
  ])('$name: refuses new lines past maxPendingBytes instead of queueing or dropping them', async ({ durability }) => {
    const m = manualSink();
    const log = createDecisionLog(m.sink, options({ durability, maxPendingBytes: 1000 }));
    await turn();
    m.complete(); // the start line
    let accepted = 0;
    while (log.append(record(accepted), () => {})) accepted++;
    expect(accepted).toBeGreaterThan(5);
    expect(log.stats().pendingBytes).toBeGreaterThanOrEqual(1000);
    expect(log.stats().pendingBytes).toBeLessThan(1200);
    await turn();
    m.complete();
    expect(log.accepting()).toBe(true);
    log.close();
  });

  it('summarizes refused calls in one line, not one line each', async () => {
    const m = manualSink();
    const log = createDecisionLog(m.sink, options());
    await turn();
    m.complete(); // the start line
    for (let i = 0; i < 1000; i++) log.noteRefused('ERR_OVERLOADED');
    log.noteRefused('ERR_DECISION_LOG_UNAVAILABLE');
    await until(() => m.waiting === 1, 3000);
    m.complete();
    expect(m.writes).toHaveLength(2);
    expect(JSON.parse(m.writes[1] as string)).toMatchObject({
      level: 'warn',
      msg: 'refused',
      counts: { ERR_OVERLOADED: 1000, ERR_DECISION_LOG_UNAVAILABLE: 1 },
    });
    log.close();
  });
});

describe('openLogSink and real destinations', () => {
  it('/dev/full: every call waiting on the write is failed (ENOSPC), none committed', async () => {
    const log = createDecisionLog(openLogSink('/dev/full', { fsync: false }), options({ retryMs: 60_000 }));
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => new Promise<boolean>((resolve) => log.append(record(i), resolve))));
    expect(results).toEqual(Array(100).fill(false));
    expect(log.failure).toBe('decision log write to /dev/full failed: ENOSPC');
    log.close();
  });

  it.each([
    {
      name: 'fsync on a character device',
      destination: '/dev/full',
      fsync: true,
      message: 'durability "fsync" needs a regular file, and "/dev/full" is not one',
    },
    { name: 'a directory', destination: tmpdir(), fsync: false, message: `${JSON.stringify(tmpdir())} is a directory` },
  ])('refuses $name', ({ destination, fsync, message }) => {
    expect(() => openLogSink(destination, { fsync })).toThrow(message);
  });

  it('refuses a FIFO with no reader at once instead of blocking', () => {
    const fifo = join(mkdtempSync(join(tmpdir(), 'callguard-fifo-')), 'log.fifo');
    spawnSync('mkfifo', [fifo]);
    expect(() => openLogSink(fifo, { fsync: false })).toThrow(`${JSON.stringify(fifo)} is a FIFO with no reader; start its reader first`);
  });

  it('fsync: commits after fsync of a regular file', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'callguard-dl-')), 'd.log');
    const log = createDecisionLog(openLogSink(file, { fsync: true }), options({ durability: 'fsync' }));
    const ok = await new Promise<boolean>((resolve) => log.append(record(1), resolve));
    expect(ok).toBe(true);
    expect(decisionIds(readFileSync(file, 'utf8'))).toEqual(['d-1']);
    log.close();
  });

  it('reopen (SIGHUP after logrotate moved the file): the next line goes to a new file at the path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'callguard-dl-'));
    const file = join(dir, 'd.log');
    const log = createDecisionLog(openLogSink(file, { fsync: false }), options());
    await new Promise((resolve) => log.append(record(1), resolve));
    renameSync(file, `${file}.1`);
    await new Promise((resolve) => log.append(record(2), resolve)); // still to the moved file
    log.reopen();
    await new Promise((resolve) => log.append(record(3), resolve));
    log.close();
    const ids = (f: string) => decisionIds(readFileSync(f, 'utf8'));
    expect(ids(`${file}.1`)).toEqual(['d-1', 'd-2']);
    expect(ids(file)).toEqual(['d-3']);
    expect(JSON.parse(readFileSync(file, 'utf8').split('\n')[0] as string)).toMatchObject({ msg: 'decision-log-start', reason: 'reopen' });
  });

  it('a stream that throws fails the lines it was given', async () => {
    const log = createDecisionLog(
      streamSink({
        write: () => {
          throw new Error('EIO');
        },
      }),
      options({ retryMs: 60_000 }),
    );
    expect(await new Promise((resolve) => log.append(record(1), resolve))).toBe(false);
    expect(log.healthy()).toBe(false);
    log.close();
  });

  it.each([
    { name: 'process.exit', end: 'process.exit(0);' },
    { name: 'an uncaught exception', end: "setImmediate(() => { throw new Error('boom'); });" },
  ])(
    'buffered: writes lines still pending when the process ends by $name',
    ({ end }) => {
      const dir = mkdtempSync(join(tmpdir(), 'callguard-dl-exit-'));
      const file = join(dir, 'd.log');
      const script = join(dir, 'child.ts');
      const src = (f: string) => JSON.stringify(new URL(`../../../src/decision-log/${f}`, import.meta.url).pathname);
      writeFileSync(
        script,
        `import { createDecisionLog } from ${src('create-decision-log.ts')};
import { openLogSink } from ${src('log-sink.ts')};
const log = createDecisionLog(openLogSink(${JSON.stringify(file)}, { fsync: false }), { durability: 'buffered', maxPendingBytes: 1 << 20, maxWriteMs: 500 });
const wait = setInterval(() => {}, 1000);
// Once the start line is written: a line queued while another write is in flight is not written at
// exit (it would land before that write and break the chain); buffered mode documents that loss.
setTimeout(() => {
  log.append(${JSON.stringify(record(7))});
  ${end}
}, 300);
void wait;
`,
      );
      spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 50_000 });
      expect(decisionIds(readFileSync(file, 'utf8'))).toEqual(['d-7']);
    },
    60_000,
  );
});

/** Polls `condition` until true or `ms`. */
async function until(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
  expect(condition()).toBe(true);
}
