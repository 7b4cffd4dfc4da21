import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDecisionLog, type DecisionLogOptions } from '../../../src/decision-log/create-decision-log.js';
import type { DecisionRecord } from '../../../src/decision-log/decision-record.js';
import { lineHash } from '../../../src/decision-log/hash-chain.js';
import { type LogSink, openLogSink, rotatedFiles } from '../../../src/decision-log/log-sink.js';
import { type ChainReport, createChainVerifier, splitLines } from '../../../src/decision-log/verify-chain.js';

const record = (i: number) => ({ decisionId: `d-${i}`, outcome: 'allow', status: 200, function: 'orders.get' }) as unknown as DecisionRecord;
const turn = () => new Promise((resolve) => setImmediate(resolve));

let privateKey: KeyObject;
let publicKey: KeyObject;
beforeAll(() => {
  ({ privateKey, publicKey } = generateKeyPairSync('ed25519'));
});

/** Writes `count` decisions through a real file sink, `perTurn` at a time, and closes the log. */
async function writeLog(path: string, count: number, overrides: Partial<DecisionLogOptions> = {}, sink: LogSink = openLogSink(path, { fsync: false })) {
  const keyFile = join(mkdtempSync(join(tmpdir(), 'callguard-key-')), 'key.pem');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const { loadCheckpointSigner } = await import('../../../src/decision-log/checkpoint-signer.js');
  const log = createDecisionLog(sink, {
    durability: 'written',
    maxPendingBytes: 1 << 22,
    maxWriteMs: 5000,
    retryMs: 2,
    configDigest: 'digest-1',
    checkpoint: { signer: loadCheckpointSigner(keyFile), everyLines: 40, everySeconds: 60 },
    ...overrides,
  });
  const results: Promise<boolean>[] = [];
  for (let i = 0; i < count; i++) {
    results.push(
      new Promise((resolve) => {
        if (!log.append(record(i), resolve)) resolve(false); // refused while the sink fails
      }),
    );
    if (i % 25 === 24) await turn();
  }
  const committed = await Promise.all(results);
  // A sink that failed is retried: close once it works again (its gap line written), as a running service would.
  for (let waited = 0; !log.healthy() && waited < 2000; waited += 2) await new Promise((resolve) => setTimeout(resolve, 2));
  await log.close();
  return { committed, log };
}

function verify(files: readonly string[], key?: KeyObject): ChainReport {
  const verifier = createChainVerifier(key === undefined ? {} : { key });
  for (const file of files) {
    let line = 0;
    for (const bytes of splitLines(readFileSync(file))) verifier.push({ file, line: ++line }, bytes);
  }
  return verifier.end();
}

/** Decision ids in the files, in order; a line cut short (not JSON) is skipped. */
const decisionIds = (files: readonly string[]) =>
  files.flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .flatMap((l) => {
        try {
          const parsed = JSON.parse(l);
          return parsed.msg === 'decision' ? [parsed.decisionId as string] : [];
        } catch {
          return [];
        }
      }),
  );

describe('hash chain and rotation, written for real', () => {
  it('rotates by size under load: every line once, in order, across files; the chain and checkpoints verify', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'callguard-chain-'));
    const path = join(dir, 'decisions.log');
    const { committed, log } = await writeLog(path, 600, { rotate: { maxBytes: 8192 } });
    expect(committed.every(Boolean)).toBe(true);
    const files = rotatedFiles(path);
    expect(files.length).toBeGreaterThan(3);
    expect(log.stats().rotations).toBe(files.length - 1);
    expect(decisionIds(files)).toEqual(Array.from({ length: 600 }, (_, i) => `d-${i}`));
    for (const file of files) {
      const lines = readFileSync(file, 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines[0]).toMatchObject({ msg: 'decision-log-start', configDigest: 'digest-1' });
      expect(lines.at(-1)).toMatchObject({ msg: 'decision-log-checkpoint' }); // each file ends signed
    }
    const report = verify(files, publicKey);
    expect(report.problem).toBeUndefined();
    expect(report.verifiedCheckpoints).toBe(report.checkpoints);
    expect(report.unsigned).toBe(0);
  });

  it('a restarted log continues the chain of the file it appends to', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'callguard-chain-')), 'decisions.log');
    await writeLog(path, 10);
    await writeLog(path, 10);
    const lines = readFileSync(path, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.msg === 'decision-log-start').map((l) => l.resumed)).toEqual([false, true]);
    expect(verify([path], publicKey).problem).toBeUndefined();
  });
});

describe('verify-log finds tampering', () => {
  let files: string[];
  let original: string[][];
  beforeAll(async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'callguard-tamper-')), 'decisions.log');
    await writeLog(path, 200, { rotate: { maxBytes: 16384 } });
    files = rotatedFiles(path);
    original = files.map((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .slice(0, -1)
        .map((l) => `${l}\n`),
    );
  });

  /** Runs `change` on a copy of the files and verifies the copy. */
  function tampered(change: (copy: string[][]) => string[][]): ChainReport {
    const dir = mkdtempSync(join(tmpdir(), 'callguard-tampered-'));
    const copy = change(original.map((lines) => [...lines]));
    const paths = copy.map((lines, i) => {
      const p = join(dir, `f${i}`);
      writeFileSync(p, lines.join(''));
      return p;
    });
    const report = verify(paths, publicKey);
    rmSync(dir, { recursive: true, force: true });
    return report;
  }
  const at = (report: ChainReport) => `f${Number(report.problem?.file.slice(-1))}:${report.problem?.line}`;

  it('passes untouched', () => {
    expect(tampered((c) => c).problem).toBeUndefined();
  });

  it.each([
    {
      name: 'a line altered',
      change: (c: string[][]) => {
        const f = c[0] as string[];
        f[5] = (f[5] as string).replace('"allow"', '"deny"');
        return c;
      },
      where: 'f0:7',
      problem: /prev is not the hash of the line before it/,
    },
    {
      name: 'a line deleted',
      change: (c: string[][]) => {
        (c[0] as string[]).splice(5, 1);
        return c;
      },
      where: 'f0:6',
      problem: /1 line\(s\) missing/,
    },
    {
      name: 'two lines swapped',
      change: (c: string[][]) => {
        const f = c[0] as string[];
        [f[5], f[6]] = [f[6] as string, f[5] as string];
        return c;
      },
      where: 'f0:6',
      problem: /missing or out of order/,
    },
    {
      name: 'a line repeated',
      change: (c: string[][]) => {
        (c[0] as string[]).splice(6, 0, (c[0] as string[])[5] as string);
        return c;
      },
      where: 'f0:7',
      problem: /repeated or out of order/,
    },
    {
      name: 'the file truncated mid-line',
      change: (c: string[][]) => {
        const f = c[1] as string[];
        f[f.length - 1] = (f.at(-1) as string).slice(0, 20);
        return c;
      },
      where: `f1:last`,
      problem: /cut short/,
    },
    {
      name: 'a whole rotated file removed',
      change: (c: string[][]) => {
        c.splice(1, 1);
        return c;
      },
      where: 'f1:1',
      problem: /line\(s\) missing/,
    },
    {
      name: 'the tail rewritten with a recomputed chain (only the signature catches it)',
      change: (c: string[][]) => rechain(c, 0, 5, (line) => line.replace('"allow"', '"deny"')),
      where: 'checkpoint',
      problem: /checkpoint signature does not verify/,
    },
  ])('$name', ({ change, where, problem }) => {
    const report = tampered(change);
    expect(report.problem?.problem).toMatch(problem);
    if (where === 'f1:last') expect(report.problem?.line).toBe(original[1]?.length);
    else if (where !== 'checkpoint') expect(at(report)).toBe(where);
  });

  it('without a key, a recomputed chain passes: the report says its checkpoints were not checked', () => {
    const dir = mkdtempSync(join(tmpdir(), 'callguard-tampered-'));
    const copy = rechain(
      original.map((l) => [...l]),
      0,
      5,
      (line) => line.replace('"allow"', '"deny"'),
    );
    const paths = copy.map((lines, i) => {
      const p = join(dir, `f${i}`);
      writeFileSync(p, lines.join(''));
      return p;
    });
    const report = verify(paths);
    expect(report.problem).toBeUndefined();
    expect(report.verifiedCheckpoints).toBe(0);
    expect(report.checkpoints).toBeGreaterThan(0);
  });

  it('a checkpoint from another key is refused', () => {
    const other = generateKeyPairSync('ed25519').publicKey;
    const verifier = createChainVerifier({ key: other });
    for (const [i, lines] of original.entries()) {
      for (const [n, l] of lines.entries()) verifier.push({ file: `f${i}`, line: n + 1 }, Buffer.from(l));
    }
    expect(verifier.end().problem?.problem).toMatch(/signed by another key/);
  });
});

describe('a failed write is accounted for, not taken for tampering', () => {
  it('a write cut short, then a gap line linking back: verifies, with a note; every committed decision is there', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'callguard-torn-')), 'decisions.log');
    const file = openLogSink(path, { fsync: false });
    let failed = false;
    // The write carrying d-100 puts half its bytes on disk and fails, like ENOSPC after a short write.
    const sink: LogSink = {
      ...file,
      write(data, done) {
        if (!failed && data.includes('"decisionId":"d-100"')) {
          failed = true;
          appendFileSync(path, data.subarray(0, Math.floor(data.length / 2)));
          done(Object.assign(new Error('no space'), { code: 'ENOSPC' }), true);
          return;
        }
        file.write(data, done);
      },
    };
    const { committed } = await writeLog(path, 200, {}, sink);
    const report = verify([path], publicKey);
    expect(report.problem).toBeUndefined();
    // The cut may fall anywhere, even on a line boundary: then nothing is damaged, only unacknowledged.
    expect(report.notes.join('\n')).toMatch(/decision-log-gap links back to seq \d+: /);
    const kept = new Set(decisionIds([path]).filter((id, i, all) => all.indexOf(id) === i));
    const acknowledged = committed.flatMap((ok, i) => (ok ? [`d-${i}`] : []));
    expect(acknowledged.length).toBeLessThan(200);
    expect(acknowledged.filter((id) => !kept.has(id))).toEqual([]);
  });

  it('a gap line cannot excuse damage from before the line it links to', () => {
    const lines = ['a', 'b', 'c', 'd'].map((x, i) => ({ x, i }));
    const verifier = createChainVerifier();
    let prev: string | null = null;
    const out: string[] = [];
    for (const { x, i } of lines) {
      const line = `${JSON.stringify({ seq: i, prev, msg: 'decision', x })}\n`;
      out.push(line);
      prev = lineHash(line);
    }
    out[1] = out[1]?.replace('"b"', '"B"') as string; // altered: line 3's prev no longer matches
    const gap = `${JSON.stringify({ seq: 4, prev, msg: 'decision-log-gap' })}\n`;
    for (const [n, l] of [...out, gap].entries()) verifier.push({ file: 'f', line: n + 1 }, Buffer.from(l));
    expect(verifier.end().problem).toMatchObject({ line: 3, problem: expect.stringMatching(/prev is not the hash/) });
  });
});

/** An attacker's rewrite: change line `index` of file `fileIndex`, then recompute seq/prev of every later line. */
function rechain(files: string[][], fileIndex: number, index: number, edit: (line: string) => string): string[][] {
  let prev: string | undefined;
  let seq = -1;
  for (const [f, lines] of files.entries()) {
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string;
      const started = f > fileIndex || (f === fileIndex && i >= index);
      if (!started) {
        prev = lineHash(line);
        seq = JSON.parse(line).seq;
        continue;
      }
      const changed = f === fileIndex && i === index ? edit(line) : line;
      const parsed = JSON.parse(changed) as Record<string, unknown>;
      seq = seq === -1 ? (parsed.seq as number) : seq + 1;
      parsed.seq = seq;
      parsed.prev = prev ?? null;
      const rewritten = `${JSON.stringify(parsed)}\n`;
      lines[i] = rewritten;
      prev = lineHash(rewritten);
    }
  }
  return files;
}

describe('verify-log cannot be talked round (review findings)', () => {
  let path: string;
  beforeAll(async () => {
    path = join(mkdtempSync(join(tmpdir(), 'callguard-forge-')), 'decisions.log');
    await writeLog(path, 100); // checkpoints every 40 lines, and one at close
  });
  const lines = () =>
    readFileSync(path, 'utf8')
      .split('\n')
      .slice(0, -1)
      .map((l) => `${l}\n`);
  const check = (text: string[], key?: KeyObject) => {
    const verifier = createChainVerifier(key === undefined ? {} : { key });
    for (const [i, l] of text.entries()) verifier.push({ file: 'f', line: i + 1 }, Buffer.from(l));
    return verifier.end();
  };

  it('a forged gap line cannot hide a line deleted before a signed checkpoint', () => {
    const text = lines();
    const victim = JSON.parse(text[5] as string);
    text.splice(5, 1);
    const forged = `${JSON.stringify({ level: 'error', time: 't', seq: victim.seq, prev: victim.prev, msg: 'decision-log-gap' })}\n`;
    const report = check([...text, forged], publicKey);
    expect(report.problem?.problem).toMatch(/missing or out of order/);
  });

  it('with a key, a log whose checkpoints were removed (chain recomputed) is refused', () => {
    const stripped = rechain([lines().filter((l) => !l.includes('decision-log-checkpoint'))], 0, 0, (l) => l);
    expect(check(stripped[0] as string[], publicKey).problem?.problem).toMatch(/no checkpoint signed with the key/);
  });

  it('a restart on a stream starts a new chain at seq 0: a note, not a problem', () => {
    const restart = [`${JSON.stringify({ level: 'info', time: 't', seq: 0, prev: null, reason: 'start', msg: 'decision-log-start' })}\n`];
    const report = check([...lines(), ...restart]);
    expect(report.problem).toBeUndefined();
    expect(report.notes.join()).toMatch(/a new chain starts here/);
  });

  it('a failed write whose landed part held a signed checkpoint, then the gap line linking back before it: accounted for', async () => {
    const { loadCheckpointSigner } = await import('../../../src/decision-log/checkpoint-signer.js');
    const keyFile = join(mkdtempSync(join(tmpdir(), 'callguard-key-')), 'key.pem');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const signer = loadCheckpointSigner(keyFile);
    const out: string[] = [];
    let prev: string | null = null;
    const put = (fields: Record<string, unknown>) => {
      const seq = out.length === 0 ? 0 : JSON.parse(out.at(-1) as string).seq + 1;
      const line = `${JSON.stringify({ level: 'info', time: 't', seq, prev, ...fields })}\n`;
      out.push(line);
      prev = lineHash(line);
      return { seq, line };
    };
    for (let i = 0; i < 3; i++) put({ msg: 'decision', decisionId: `d-${i}` }); // seq 0-2: written, acknowledged
    const committed = prev;
    put({ msg: 'decision', decisionId: 'd-3' }); // the failed write: seq 3-6 landed, 7 cut short
    put({ msg: 'decision-log-checkpoint', keyId: signer.keyId, sig: signer.sign(4, prev) });
    put({ msg: 'decision', decisionId: 'd-5' });
    put({ msg: 'decision', decisionId: 'd-6' });
    const cut = `${(put({ msg: 'decision', decisionId: 'd-7' }).line).slice(0, 30)}\n`;
    out[out.length - 1] = cut;
    prev = committed; // callguard rewinds to what it knows was written
    out.push(`${JSON.stringify({ level: 'error', time: 't', seq: 3, prev: committed, msg: 'decision-log-gap' })}\n`);
    prev = lineHash(out.at(-1) as string);
    out.push(`${JSON.stringify({ level: 'info', time: 't', seq: 4, prev, msg: 'decision-log-checkpoint', keyId: signer.keyId, sig: signer.sign(4, prev) })}\n`);
    const report = check(out, publicKey);
    expect(report.problem).toBeUndefined();
    expect(report.notes.join()).toMatch(/links back to seq 2: 4 line\(s\) after it were written but not acknowledged.*1 damaged line/);
  });

  it('a write cut short inside its first line, then the gap line: accounted for', () => {
    const text = lines();
    const last = JSON.parse(text.at(-1) as string);
    const gap = `${JSON.stringify({ level: 'error', time: 't', seq: last.seq + 1, prev: lineHash(text.at(-1) as string), msg: 'decision-log-gap' })}\n`;
    const report = check([...text, '{"level":"info","ti\n', gap]);
    expect(report.problem).toBeUndefined();
    expect(report.notes.join()).toMatch(/1 damaged line\(s\) before it are accounted for/);
  });

  it('a restart after a file whose last line is longer than 64 KiB continues its chain', async () => {
    const big = join(mkdtempSync(join(tmpdir(), 'callguard-big-')), 'decisions.log');
    const log = createDecisionLog(openLogSink(big, { fsync: false }), { durability: 'written', maxPendingBytes: 1 << 22, maxWriteMs: 5000 });
    await new Promise((resolve) => log.append({ ...record(1), internal: 'x'.repeat(200_000) } as DecisionRecord, resolve));
    await log.close();
    await writeLog(big, 2);
    const report = verify([big]);
    expect(report.problem).toBeUndefined();
    expect(report.notes).toEqual([]);
  });
});
