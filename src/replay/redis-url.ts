/** Where the shared replay store lives, from `replay.redis.url`. */
export interface RedisEndpoint {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  /** An ACL user (Redis 6+); absent: the default user. */
  readonly username?: string;
  /** `rediss://` */
  readonly tls: boolean;
}

/**
 * Parses `redis://[USER@]HOST[:PORT][/DB]` or `rediss://…` (an IPv6 host in brackets). A password in
 * the URL is a problem: the config file is not a secret store, `passwordFile` is. Problems never quote
 * the URL (it may hold that password).
 */
export function parseRedisUrl(value: string): { ok: true; endpoint: RedisEndpoint } | { ok: false; problem: string } {
  const shape = 'must be redis://HOST:PORT/DB or rediss://HOST:PORT/DB';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, problem: shape };
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return { ok: false, problem: shape };
  if (url.password !== '') return { ok: false, problem: 'holds a password: put it in passwordFile instead (the config file is not a secret store)' };
  if (url.hostname === '') return { ok: false, problem: `${shape} (no host)` };
  const port = url.port === '' ? 6379 : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { ok: false, problem: `${shape} (bad port)` };
  const db = /^\/?(\d{0,9})$/.exec(url.pathname)?.[1];
  if (db === undefined) return { ok: false, problem: `${shape} (DB is a database number)` };
  if (url.search !== '' || url.hash !== '') return { ok: false, problem: `${shape}, without a query or fragment` };
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const username = decodeURIComponent(url.username);
  return { ok: true, endpoint: { host, port, db: db === '' ? 0 : Number(db), tls: url.protocol === 'rediss:', ...(username !== '' ? { username } : {}) } };
}

/** `HOST:PORT/DB` for log lines: never the user or anything else from the URL. */
export function describeEndpoint(endpoint: RedisEndpoint): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `${endpoint.tls ? 'rediss' : 'redis'}://${host}:${endpoint.port}/${endpoint.db}`;
}
