import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'callguard-replay-config-'));
const FILE = join(dir, 'callguard.yaml');
const BASE = `
identity:
  issuers:
    - { name: corp, issuer: https://idp.example.test, audiences: [callguard], algorithms: [RS256], jwksFile: jwks.json }
functions:
  - name: orders.approve
    singleUse: true
    allow: [{ issuer: corp, groups: [writers] }]
`;

function problemsOf(replay: string): { path: string; message: string }[] {
  try {
    parseConfig(`${BASE}replay: ${replay}\n`, FILE);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(({ path, message }) => ({ path, message }));
    throw err;
  }
  return [];
}

describe('replay.redis in the config', () => {
  it('is absent by default (in memory)', () => {
    expect(parseConfig(BASE, FILE).replay).toEqual({ maxEntries: 1000000 });
  });

  it('gets its documented defaults and absolute file paths', () => {
    const config = parseConfig(
      `${BASE}replay: { redis: { url: "rediss://redis.internal:6380/1", passwordFile: secrets/redis, caFile: /etc/ssl/redis-ca.pem } }\n`,
      FILE,
    );
    expect(config.replay.redis).toEqual({
      url: 'rediss://redis.internal:6380/1',
      passwordFile: join(dir, 'secrets/redis'),
      caFile: '/etc/ssl/redis-ca.pem',
      timeoutMs: 20,
      keyPrefix: 'callguard:replay:',
    });
  });

  it.each([
    {
      name: 'a password in the url',
      replay: '{ redis: { url: "redis://:s3cret@redis.internal:6379/0" } }',
      path: '/replay/redis/url',
      message: /holds a password: put it in passwordFile/,
    },
    { name: 'an url that is not Redis', replay: '{ redis: { url: "https://redis.internal" } }', path: '/replay/redis/url', message: /must match pattern/ },
    { name: 'a bad db', replay: '{ redis: { url: "redis://redis.internal/x" } }', path: '/replay/redis/url', message: /DB is a database number/ },
    { name: 'timeoutMs below 5', replay: '{ redis: { url: "redis://r:6379/0", timeoutMs: 4 } }', path: '/replay/redis/timeoutMs', message: /must be >= 5/ },
    {
      name: 'timeoutMs above 1000',
      replay: '{ redis: { url: "redis://r:6379/0", timeoutMs: 1001 } }',
      path: '/replay/redis/timeoutMs',
      message: /must be <= 1000/,
    },
    {
      name: 'caFile without TLS',
      replay: '{ redis: { url: "redis://r:6379/0", caFile: ca.pem } }',
      path: '/replay/redis/caFile',
      message: /only used with a rediss:\/\/ url/,
    },
    {
      name: 'an inline password key',
      replay: '{ redis: { url: "redis://r:6379/0", password: s3cret } }',
      path: '/replay/redis',
      message: /unknown key "password"/,
    },
    { name: 'no url', replay: '{ redis: { timeoutMs: 20 } }', path: '/replay/redis', message: /must have required property 'url'/ },
  ])('refuses $name', ({ replay, path, message }) => {
    const problems = problemsOf(replay);
    expect(problems.map((p) => p.path)).toEqual([path]);
    expect(problems[0]?.message).toMatch(message);
    expect(problems[0]?.message).not.toContain('s3cret');
  });
});
