import { hostname } from 'node:os';

/** local0 (16) × 8 + informational (6): RFC 5424 §6.2.1. */
const PRI_LOCAL0_INFO = 134;

/**
 * Wraps one decision-log line (without its LF) in an RFC 5424 syslog message:
 * `<134>1 TIMESTAMP HOSTNAME callguard - - - LINE` (local0.info; no PROCID, MSGID or STRUCTURED-DATA).
 * The line is MSG-ANY (§6.4, no BOM), so a receiver's `%msg%` is the JSON line byte for byte.
 */
export function createSyslogFormatter(options: { readonly hostname?: string; readonly now?: () => number } = {}): (line: Buffer) => Buffer {
  const host = toHostname(options.hostname ?? hostname());
  const now = options.now ?? Date.now;
  return (line) => Buffer.concat([Buffer.from(`<${PRI_LOCAL0_INFO}>1 ${new Date(now()).toISOString()} ${host} callguard - - - `, 'latin1'), line]);
}

/** RFC 5424 §6.2.4: HOSTNAME is 1–255 printable US-ASCII characters, else NILVALUE. */
function toHostname(name: string): string {
  const printable = name.replace(/[^\x21-\x7e]/g, '').slice(0, 255);
  return printable === '' ? '-' : printable;
}
