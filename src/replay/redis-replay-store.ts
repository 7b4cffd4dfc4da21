import { hash } from 'node:crypto';
// ioredis rather than node-redis (`redis`), measured against redis-server 7.0 with a SIGSTOPped server:
// node-redis's per-command `timeout` stops counting once the command is written to the socket, so a
// paused Redis leaves a claim pending forever, and its `socketTimeout` is an idle timer that also drops
// quiet healthy connections. ioredis's `commandTimeout` bounds the whole round trip, its `socketTimeout`
// fires only while replies are owed, `enableOfflineQueue: false` fails a command at once while
// disconnected instead of queueing it, and `retryStrategy` reconnects in the background. Both do TLS
// (`rediss://`) and AUTH with a password given as a string.
import { Redis } from 'ioredis';
import type { IdentityEvent } from '../identity/identity-event.js';
import { describeEndpoint, parseRedisUrl } from './redis-url.js';
import type { ClaimResult, ReplayStore } from './replay-store.js';

export interface RedisReplayStoreOptions {
  /** `redis://HOST:PORT/DB` or `rediss://…`, without a password (see parseRedisUrl). */
  readonly url: string;
  /** For `AUTH` (read from `passwordFile` by the caller). */
  readonly password?: string;
  /** PEM CA certificate(s) for `rediss://`; default: Node's bundle. */
  readonly ca?: string;
  /** A claim not answered within this is `unavailable`. Default 20. */
  readonly timeoutMs?: number;
  /** Default `callguard:replay:`. */
  readonly keyPrefix?: string;
  /** How long creation waits for the first connection before going on without it. Default 2000. */
  readonly connectWaitMs?: number;
  /** Connection lost and back, claims failing and succeeding again: one event per change. */
  readonly onEvent?: (event: IdentityEvent) => void;
}

/** The key a credential id is claimed under: a hash, so ids are not readable in Redis and keys have one size. */
export function replayRedisKey(keyPrefix: string, key: string): string {
  return `${keyPrefix}${hash('sha256', key, 'base64url')}`;
}

/**
 * The replay store shared by replicas: each claim is one `SET key 1 NX PX ttl` (atomic in Redis: of
 * concurrent claims exactly one gets `OK`). Anything but an answer within `timeoutMs` is `unavailable`,
 * and the call is refused. Resolves once connected, or after `connectWaitMs` without a connection
 * (a warn event), reconnecting in the background either way: start-up never waits on Redis for longer.
 */
export async function createRedisReplayStore(options: RedisReplayStoreOptions): Promise<ReplayStore> {
  const parsed = parseRedisUrl(options.url);
  if (!parsed.ok) throw new TypeError(`createRedisReplayStore: url ${parsed.problem}`);
  const endpoint = parsed.endpoint;
  const where = describeEndpoint(endpoint);
  const timeoutMs = options.timeoutMs ?? 20;
  const keyPrefix = options.keyPrefix ?? 'callguard:replay:';
  const emit = (level: IdentityEvent['level'], msg: string): void => options.onEvent?.({ level, msg: `replay store ${where}: ${msg}`, issuer: 'replay' });
  const client = new Redis({
    host: endpoint.host,
    port: endpoint.port,
    db: endpoint.db,
    ...(endpoint.username !== undefined ? { username: endpoint.username } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
    ...(endpoint.tls ? { tls: options.ca !== undefined ? { ca: options.ca } : {} } : {}),
    connectionName: 'callguard',
    lazyConnect: true,
    // A claim while disconnected fails at once: nothing queues up while Redis is away.
    enableOfflineQueue: false,
    // A claim in flight when the connection drops is failed, not resent after reconnecting.
    maxRetriesPerRequest: 0,
    commandTimeout: timeoutMs,
    // A timed-out claim still owes its reply (replies come in order). A connection that sends nothing while
    // replies are owed is dropped and made anew, which bounds what is owed on a server that hangs.
    socketTimeout: Math.max(1000, 5 * timeoutMs),
    connectTimeout: 1000,
    retryStrategy: (attempt) => Math.min(25 * 2 ** attempt, 1000),
    // A primary demoted to replica (failover behind one name) refuses writes: reconnect to find the new one.
    reconnectOnError: (err) => err.message.startsWith('READONLY'),
  });

  let state: 'connecting' | 'up' | 'down' | 'closed' = 'connecting';
  let downSince = 0;
  let lastError = '';
  let failing = false;
  client.on('error', (err: Error) => {
    lastError = err.message;
  });
  client.on('ready', () => {
    if (state === 'down') emit('info', `connected again after ${((Date.now() - downSince) / 1000).toFixed(1)} s`);
    else if (state === 'connecting') emit('info', 'connected');
    state = 'up';
    failing = false;
  });
  client.on('close', () => {
    if (state !== 'up') return;
    state = 'down';
    downSince = Date.now();
    emit('warn', `lost the connection (${lastError || 'closed'}); single-use calls are refused (ERR_REPLAY_UNAVAILABLE) until it is back`);
  });

  const claimed = (reply: unknown): ClaimResult => {
    if (failing) emit('info', 'claims succeed again');
    failing = false;
    return reply === 'OK' ? 'first' : reply === null ? 'replayed' : 'unavailable';
  };
  const failed = (err: unknown): ClaimResult => {
    // While disconnected the connection events say it already; here: timeouts and error replies (e.g. OOM).
    if (state === 'up' && !failing)
      emit('warn', `a claim failed (${err instanceof Error ? err.message : String(err)}); single-use calls are refused while claims fail`);
    if (state === 'up') failing = true;
    return 'unavailable';
  };

  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      if (state !== 'up') {
        state = 'down';
        downSince = Date.now();
        emit(
          'warn',
          `not reachable (${lastError || 'no answer'}); single-use calls are refused (ERR_REPLAY_UNAVAILABLE) until it is; retrying in the background`,
        );
      }
      resolve();
    }, options.connectWaitMs ?? 2000);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
    client.connect().catch(() => {
      // Recorded by the 'error' listener; retryStrategy goes on trying.
    });
  });

  return {
    claim(key, ttlMs) {
      try {
        // Redis SET: PX takes a positive integer.
        return client.set(replayRedisKey(keyPrefix, key), '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX').then(claimed, failed);
      } catch (err) {
        return failed(err);
      }
    },
    close() {
      state = 'closed';
      client.disconnect();
    },
  };
}
