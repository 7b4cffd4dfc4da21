import { BlockList, isIP } from 'node:net';

/** `host:port` as bound: `[::1]:9192` is host `::1`, port 9192. The schema checked the shape. */
export function splitListen(listen: string): { readonly host: string; readonly port: number } {
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon);
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port: Number(listen.slice(colon + 1)) };
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** 127.0.0.0/8, `::1` (RFC 4291 §2.5.3), or the name `localhost` (RFC 6761 §6.3: resolves only to loopback). */
export function isLoopbackHost(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  const family = isIP(host);
  return family !== 0 && LOOPBACK.check(host, family === 4 ? 'ipv4' : 'ipv6');
}
