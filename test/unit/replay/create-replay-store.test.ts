import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { createReplayStore } from '../../../src/replay/create-replay-store.js';

const dir = mkdtempSync(join(tmpdir(), 'callguard-replay-store-'));
const CONFIG_FILE = join(dir, 'callguard.yaml');
writeFileSync(join(dir, 'empty'), '\n');

describe('createReplayStore', () => {
  it('without replay.redis: the in-memory store (synchronous answers, the injected clock)', async () => {
    let t = 0;
    const store = await createReplayStore({ maxEntries: 1000 }, { configFile: CONFIG_FILE, now: () => t });
    expect([store.claim('k', 1000), store.claim('k', 1000)]).toEqual(['first', 'replayed']);
    t = 1000;
    expect(store.claim('k', 1000)).toBe('first');
    store.close();
  });

  it('refuses, before connecting anywhere, every file it cannot use at once', async () => {
    const redis = {
      url: 'redis://127.0.0.1:1/0',
      timeoutMs: 20,
      keyPrefix: 'callguard:replay:',
      passwordFile: join(dir, 'missing'),
      caFile: join(dir, 'no-ca.pem'),
    };
    const err = await createReplayStore({ maxEntries: 1000, redis }, { configFile: CONFIG_FILE }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      { file: CONFIG_FILE, path: '/replay/redis/passwordFile', message: `cannot read ${JSON.stringify(join(dir, 'missing'))}: ENOENT` },
      { file: CONFIG_FILE, path: '/replay/redis/caFile', message: `cannot read ${JSON.stringify(join(dir, 'no-ca.pem'))}: ENOENT` },
    ]);
  });

  it('refuses an empty password file', async () => {
    const redis = { url: 'redis://127.0.0.1:1/0', timeoutMs: 20, keyPrefix: 'callguard:replay:', passwordFile: join(dir, 'empty') };
    const err = await createReplayStore({ maxEntries: 1000, redis }, { configFile: CONFIG_FILE }).catch((e: unknown) => e);
    expect((err as ConfigError).problems).toEqual([{ file: CONFIG_FILE, path: '/replay/redis/passwordFile', message: 'is empty' }]);
  });
});
