import { isIPv6 } from 'node:net';
import type { Ajv2020 } from 'ajv/dist/2020.js';

// RFC 3339 §5.6 (date-time: time-hour 00-23, time-numoffset "+hh:mm"; the date itself is ajv-formats' check).
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;
// RFC 3339 Appendix A: dur-year needs dur-month before dur-day, dur-hour needs dur-minute before dur-second.
const DURATION =
  /^P(?:(?:\d+Y(?:\d+M(?:\d+D)?)?|\d+M(?:\d+D)?|\d+D)(?:T(?:\d+H(?:\d+M(?:\d+S)?)?|\d+M(?:\d+S)?|\d+S))?|T(?:\d+H(?:\d+M(?:\d+S)?)?|\d+M(?:\d+S)?|\d+S)|\d+W)$/;
// RFC 4122 §3: the string form alone, not the "urn:uuid:" URN.
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
// RFC 1123 §2.1 LDH label; RFC 5890 §2.3.1: "--" in the 3rd and 4th position marks a reserved (e.g. xn-- IDNA) label.
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** RFC 6570 §2.1: a literal is no control character, DEL included. */
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

// RFC 3986 Appendix B: splits any string into scheme, authority, path, query, fragment (each part checked below).
const URI_PARTS = /^(?:([^:/?#]+):)?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/s;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;
// RFC 3986 §3.3 path of pchar segments, §3.4/§3.5 query and fragment (pchar, "/", "?"), §3.2.1 userinfo, §3.2.2 reg-name.
const PATH = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/;
const QUERY = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$/;
const USERINFO = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:]|%[0-9A-Fa-f]{2})*$/;
const REG_NAME = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/;
const IPV_FUTURE = /^v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+$/;
// RFC 3986 §3.2.2: an IPv4address is dotted dec-octets without leading zeros (else it is a reg-name).
const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** RFC 3986 §3.2: `[ userinfo "@" ] host [ ":" port ]`, host an IP-literal, IPv4address or reg-name. */
function isAuthority(authority: string): boolean {
  const at = authority.indexOf('@');
  if (at !== authority.lastIndexOf('@')) return false;
  if (at >= 0 && !USERINFO.test(authority.slice(0, at))) return false;
  const hostPort = authority.slice(at + 1);
  let host = hostPort;
  let port = '';
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0) return false;
    host = hostPort.slice(0, close + 1);
    const rest = hostPort.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return false;
    port = rest.slice(1);
    const literal = host.slice(1, -1);
    // RFC 3986 IPv6address has no zone identifier; isIPv6 refuses leading zeros in an embedded IPv4.
    if (!(IPV_FUTURE.test(literal) || (isIPv6(literal) && !literal.includes('%')))) return false;
  } else {
    const colon = hostPort.indexOf(':');
    if (colon >= 0) [host, port] = [hostPort.slice(0, colon), hostPort.slice(colon + 1)];
    if (!(IPV4.test(host) || REG_NAME.test(host))) return false;
  }
  return /^\d*$/.test(port);
}

/** RFC 3986 §3 URI (`requireScheme`) or §4.1 URI-reference. */
function isUriReference(s: string, requireScheme: boolean): boolean {
  const parts = URI_PARTS.exec(s);
  if (parts === null) return false;
  const [, scheme, authority, path = '', query, fragment] = parts;
  if (scheme === undefined ? requireScheme : !SCHEME.test(scheme)) return false;
  if (authority !== undefined && !isAuthority(authority)) return false;
  if (!PATH.test(path)) return false;
  // §4.2: a relative-path reference's first segment has no ":" (it would read as a scheme).
  if (scheme === undefined && authority === undefined && (path.split('/')[0] ?? '').includes(':')) return false;
  return (query === undefined || QUERY.test(query)) && (fragment === undefined || QUERY.test(fragment));
}

/** A hostname as plain ASCII LDH labels; IDNA A-labels (`xn--`) are refused: their rules are not checked here. */
function isHostname(s: string): boolean {
  if (s.length > 253) return false;
  return s.split('.').every((label) => LABEL.test(label) && label.slice(2, 4) !== '--');
}

const STRICTER: Readonly<Record<string, (s: string) => boolean>> = {
  'date-time': (s) => DATE_TIME.test(s),
  duration: (s) => DURATION.test(s),
  uuid: (s) => UUID.test(s),
  hostname: isHostname,
  'uri-template': (s) => !hasControl(s),
  uri: (s) => isUriReference(s, true),
  'uri-reference': (s) => isUriReference(s, false),
};

/**
 * Tightens ajv-formats' checks where the suite found them accepting invalid strings: the string must
 * pass both ajv-formats' check and ours (linear regular expressions only: they run on callers' strings).
 */
export function addStricterFormats(ajv: Ajv2020): void {
  for (const [name, stricter] of Object.entries(STRICTER)) {
    const original = ajv.formats[name];
    const base = typeof original === 'object' && original !== null && 'validate' in original ? original.validate : original;
    const passes =
      base instanceof RegExp ? (s: string) => base.test(s) : typeof base === 'function' ? (s: string) => (base as (s: string) => boolean)(s) : () => true;
    // Keep `compare` (formatMaximum and the like on date-time).
    const compare = typeof original === 'object' && original !== null && 'compare' in original ? { compare: original.compare } : {};
    ajv.addFormat(name, { type: 'string', validate: (s: string) => stricter(s) && passes(s), ...compare } as Parameters<Ajv2020['addFormat']>[1]);
  }
}
