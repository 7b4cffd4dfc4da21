/** A decision-log destination naming a RELP receiver: `relp+tls://HOST:PORT`. */
export interface RelpAddress {
  readonly host: string;
  readonly port: number;
}

const SCHEME = /^relp(?:\+[a-z0-9]+)?:\/\//i;

/** Whether `destination` is meant as a RELP URL (so it is neither resolved nor opened as a path). */
export function isRelpDestination(destination: string): boolean {
  return SCHEME.test(destination);
}

/** Parses `relp+tls://HOST:PORT` (an IPv6 host in brackets); a problem message otherwise. Plain RELP is refused. */
export function parseRelpDestination(destination: string): { ok: true; address: RelpAddress } | { ok: false; problem: string } {
  const shape = 'must be relp+tls://HOST:PORT';
  if (!destination.toLowerCase().startsWith('relp+tls://')) return { ok: false, problem: `${shape} (RELP is spoken over TLS only)` };
  let url: URL;
  try {
    url = new URL(destination);
  } catch {
    return { ok: false, problem: shape };
  }
  const port = Number(url.port);
  if (url.hostname === '' || url.port === '' || !Number.isInteger(port) || port < 1 || port > 65535) return { ok: false, problem: `${shape} with a port` };
  if (url.username !== '' || url.password !== '' || (url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    return { ok: false, problem: `${shape}, nothing else` };
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { ok: true, address: { host, port } };
}
