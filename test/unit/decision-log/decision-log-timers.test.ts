import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadCheckpointSigner, verifyCheckpoint } from '../../../src/decision-log/checkpoint-signer.js';
import { createDecisionLog } from '../../../src/decision-log/create-decision-log.js';
import type { DecisionRecord } from '../../../src/decision-log/decision-record.js';
import type { LogSink } from '../../../src/decision-log/log-sink.js';

const record = (i: number) => ({ decisionId: `d-${i}`, outcome: 'allow', status: 200 }) as unknown as DecisionRecord;
const turn = () => new Promise((resolve) => setImmediate(resolve));

let key: KeyObject;
let keyFile: string;
beforeAll(() => {
  key = generateKeyPairSync('ed25519').privateKey;
  keyFile = join(mkdtempSync(join(tmpdir(), 'callguard-key-')), 'key.pem');
  writeFileSync(keyFile, key.export({ type: 'pkcs8', format: 'pem' }));
});
afterEach(() => {
  vi.useRealTimers();
});

/** A sink whose writes complete at once; `rotate` marks where a file ends. */
function recordingSink() {
  const out: (Record<string, unknown> | 'rotate')[] = [];
  const sink: LogSink = {
    name: 'recording',
    write(data, done) {
      for (const line of data.toString('utf8').split('\n').slice(0, -1)) out.push(JSON.parse(line));
      done(undefined, false);
    },
    sync: (done) => done(undefined),
    writeSync: (data) => sink.write(data, () => {}),
    reopen() {},
    close() {},
    rotate: () => {
      out.push('rotate');
      return 'rotated';
    },
  };
  return { sink, out };
}

describe('createDecisionLog: timed checkpoints and rotation', () => {
  it('signs a checkpoint every everySeconds and rotates a quiet file on time, its start line naming the config in charge', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let now = 0;
    const { sink, out } = recordingSink();
    const log = createDecisionLog(sink, {
      durability: 'written',
      maxPendingBytes: 1 << 20,
      maxWriteMs: 5000,
      now: () => now,
      configDigest: 'digest-1',
      rotate: { everySeconds: 10 },
      checkpoint: { signer: loadCheckpointSigner(keyFile), everyLines: 1000, everySeconds: 5 },
    });
    await turn();
    log.append(record(1), () => {});
    log.noteConfig('digest-2');
    await turn();
    now = 5000;
    vi.advanceTimersByTime(5000); // the checkpoint timer: three lines since the last checkpoint
    await turn();
    now = 10_000;
    vi.advanceTimersByTime(5000); // the checkpoint timer finds nothing new; the rotation timer finds the file 10 s old
    await turn();

    expect(out.map((l) => (l === 'rotate' ? l : l['msg']))).toEqual([
      'decision-log-start',
      'decision',
      'decision-log-config',
      'decision-log-checkpoint',
      'rotate',
      'decision-log-start',
    ]);
    const [start, , config, checkpoint, , next] = out as Record<string, unknown>[];
    expect(start).toMatchObject({ seq: 0, reason: 'start', configDigest: 'digest-1', resumed: false });
    expect(config).toMatchObject({ seq: 2, reason: 'reload', configDigest: 'digest-2' });
    expect(checkpoint).toMatchObject({ seq: 3 });
    expect(verifyCheckpoint(key, 3, checkpoint?.['prev'] as string, checkpoint?.['sig'] as string)).toBe(true);
    expect(next).toMatchObject({ seq: 4, reason: 'rotate', configDigest: 'digest-2', time: new Date(10_000).toISOString() });
    expect(log.stats()).toMatchObject({ rotations: 1, linesWritten: 5, pendingLines: 0 });

    now = 20_000;
    vi.advanceTimersByTime(10_000); // a checkpoint after the start line at 15 s, then the file (start + checkpoint) rotates at 20 s
    await turn();
    expect(out.slice(6).map((l) => (l === 'rotate' ? l : l['msg']))).toEqual(['decision-log-checkpoint', 'rotate', 'decision-log-start']);
    await log.close();
  });

  it('a file holding only its start line is not rotated, and a config noted after close writes nothing', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let now = 0;
    const { sink, out } = recordingSink();
    const log = createDecisionLog(sink, { durability: 'written', maxPendingBytes: 1 << 20, maxWriteMs: 5000, now: () => now, rotate: { everySeconds: 10 } });
    await turn();
    now = 30_000;
    vi.advanceTimersByTime(30_000);
    await turn();
    expect(out.map((l) => (l === 'rotate' ? l : l['msg']))).toEqual(['decision-log-start']);
    await log.close();
    log.noteConfig('digest-2');
    await turn();
    expect(out).toHaveLength(1);
  });
});
