import { spawnSync } from 'node:child_process';
import { describeNeeding } from './describe-needing.js';

/** Why redis-server cannot run here, or undefined when it can. */
export function redisServerMissing(): string | undefined {
  const run = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (run.error !== undefined) return `redis-server not found (${(run.error as NodeJS.ErrnoException).code})`;
  if (run.status !== 0) return `redis-server --version failed: ${run.stderr.trim()}`;
  return undefined;
}

/** `describe` for suites that need redis-server: skipped on a workstation without it, FAILS in CI (`CI` set). */
export function describeWithRedis(name: string, body: () => void): void {
  describeNeeding({ missing: redisServerMissing(), install: 'apt-get install redis-server' }, name, body);
}
