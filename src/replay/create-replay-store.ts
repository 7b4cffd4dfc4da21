import { readFileSync } from 'node:fs';
import type { ReplayConfig } from '../config/types.js';
import { ConfigError, type ConfigProblem } from '../errors.js';
import type { IdentityEvent } from '../identity/identity-event.js';
import { createMemoryReplayStore } from './memory-replay-store.js';
import { createRedisReplayStore } from './redis-replay-store.js';
import type { ReplayStore } from './replay-store.js';

export interface ReplayStoreOptions {
  /** The config file, named in problems with `passwordFile` and `caFile`. */
  readonly configFile: string;
  /** The in-memory store's clock (Redis keeps its own). */
  readonly now?: () => number;
  readonly onEvent?: (event: IdentityEvent) => void;
  /** How long start-up waits for Redis before going on without it. Default 2000. */
  readonly connectWaitMs?: number;
}

/**
 * The configured replay store: Redis with `replay.redis`, else in memory. Throws ConfigError when a
 * file it names cannot be read; never because Redis is down (it warns and keeps trying).
 */
export async function createReplayStore(config: ReplayConfig, options: ReplayStoreOptions): Promise<ReplayStore> {
  const redis = config.redis;
  if (redis === undefined) return createMemoryReplayStore({ maxEntries: config.maxEntries, ...(options.now ? { now: options.now } : {}) });
  const problems: ConfigProblem[] = [];
  const read = (key: 'passwordFile' | 'caFile', file: string | undefined): string | undefined => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      problems.push({
        file: options.configFile,
        path: `/replay/redis/${key}`,
        message: `cannot read ${JSON.stringify(file)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      });
      return undefined;
    }
  };
  // One line; the newline an editor adds is not part of the password.
  const password = read('passwordFile', redis.passwordFile)?.replace(/\r?\n$/, '');
  const ca = read('caFile', redis.caFile);
  if (password === '') problems.push({ file: options.configFile, path: '/replay/redis/passwordFile', message: 'is empty' });
  if (problems.length > 0) throw new ConfigError(problems);
  return createRedisReplayStore({
    url: redis.url,
    timeoutMs: redis.timeoutMs,
    keyPrefix: redis.keyPrefix,
    ...(password !== undefined ? { password } : {}),
    ...(ca !== undefined ? { ca } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.connectWaitMs !== undefined ? { connectWaitMs: options.connectWaitMs } : {}),
  });
}
