import { describe, expect, it } from 'vitest';
import { describeEndpoint, parseRedisUrl } from '../../../src/replay/redis-url.js';

describe('parseRedisUrl', () => {
  it.each([
    { name: 'host, port and db', url: 'redis://redis.internal:6380/2', want: { host: 'redis.internal', port: 6380, db: 2, tls: false } },
    { name: 'defaults: port 6379, db 0', url: 'redis://redis.internal', want: { host: 'redis.internal', port: 6379, db: 0, tls: false } },
    { name: 'a trailing slash is db 0', url: 'redis://10.0.0.5:6379/', want: { host: '10.0.0.5', port: 6379, db: 0, tls: false } },
    { name: 'TLS', url: 'rediss://redis.internal:6380/0', want: { host: 'redis.internal', port: 6380, db: 0, tls: true } },
    { name: 'IPv6 in brackets', url: 'redis://[::1]:6379/1', want: { host: '::1', port: 6379, db: 1, tls: false } },
    {
      name: 'an ACL user (percent-decoded)',
      url: 'redis://call%40guard@redis.internal:6379/0',
      want: { host: 'redis.internal', port: 6379, db: 0, tls: false, username: 'call@guard' },
    },
  ])('$name', ({ url, want }) => {
    expect(parseRedisUrl(url)).toEqual({ ok: true, endpoint: want });
  });

  it.each([
    { name: 'a password', url: 'redis://:s3cret@redis.internal:6379/0', problem: /holds a password: put it in passwordFile/ },
    { name: 'a user and a password', url: 'rediss://callguard:s3cret@redis.internal/0', problem: /holds a password/ },
    { name: 'another scheme', url: 'http://redis.internal:6379', problem: /must be redis:\/\/HOST:PORT\/DB/ },
    { name: 'not a URL', url: 'redis.internal:6379', problem: /must be redis:\/\// },
    { name: 'no host', url: 'redis:///0', problem: /no host/ },
    { name: 'a db that is not a number', url: 'redis://redis.internal/zero', problem: /DB is a database number/ },
    { name: 'a path below the db', url: 'redis://redis.internal/0/1', problem: /DB is a database number/ },
    { name: 'a query', url: 'redis://redis.internal/0?family=6', problem: /without a query or fragment/ },
    { name: 'port 0', url: 'redis://redis.internal:0/0', problem: /bad port/ },
  ])('refuses $name', ({ url, problem }) => {
    const parsed = parseRedisUrl(url);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problem).toMatch(problem);
    expect(parsed.problem).not.toContain('s3cret');
  });

  it('describes an endpoint without its user', () => {
    const parsed = parseRedisUrl('rediss://callguard@[::1]:6380/3');
    expect(parsed.ok && describeEndpoint(parsed.endpoint)).toBe('rediss://[::1]:6380/3');
  });
});
