import { printable, type Style } from './create-style.js';
import type { LogLine } from './parse-log-line.js';

const FUNCTION_WIDTH = 18;
/** Fields every line carries or that the readable form shows elsewhere. */
const ENVELOPE = new Set(['level', 'time', 'seq', 'prev', 'msg']);

/**
 * One readable line (no newline) for a log line: a decision as time, outcome, function, caller,
 * request and latency; a gap or refused summary prominently; the log's other lines dimmed.
 */
export function formatLogLine(line: LogLine, style: Style): string {
  const time = printable(line.time);
  const f = line.fields;
  switch (line.msg) {
    case 'decision':
      return `${time} ${formatDecision(f, style)}`;
    case 'decision-log-gap':
      return style.red(
        style.bold(
          `${time} !!! GAP: calls went unrecorded since ${text(f['since'])}: ${text(f['failure'])}; ${text(f['lost'])} line(s) lost; refused: ${counts(f['refused'])}`,
        ),
      );
    case 'refused':
      return style.yellow(style.bold(`${time} !!! REFUSED without a decision since ${text(f['since'])}: ${counts(f['counts'])}`));
    case 'decision-log-start':
      return style.dim(
        `${time} --- log start (${text(f['reason'])}, config ${short(text(f['configDigest']))}${f['resumed'] === true ? ', resumed' : ''}) seq ${text(f['seq'])}`,
      );
    case 'decision-log-checkpoint':
      return style.dim(`${time} --- checkpoint seq ${text(f['seq'])} (key ${text(f['keyId'])})`);
    default: {
      const level = text(f['level']).toUpperCase();
      const rest = Object.fromEntries(Object.entries(f).filter(([k]) => !ENVELOPE.has(k)));
      const body = `${time} ${level} ${printable(line.msg)}${Object.keys(rest).length > 0 ? ` ${printable(JSON.stringify(rest))}` : ''}`;
      return level === 'ERROR' || level === 'FATAL' ? style.red(body) : level === 'WARN' ? style.yellow(body) : body;
    }
  }
}

function formatDecision(f: Readonly<Record<string, unknown>>, style: Style): string {
  const outcome =
    f['outcome'] === 'allow'
      ? style.green(f['mode'] === 'shadow' ? 'ALLOW (shadow)' : 'ALLOW')
      : f['outcome'] === 'would-deny'
        ? style.yellow(`WOULD-DENY ${text(f['status'])} ${text(f['code'])}`)
        : style.red(`DENY ${text(f['status'])} ${text(f['code'])}`);
  const fn = (typeof f['function'] === 'string' ? printable(f['function']) : '-').padEnd(FUNCTION_WIDTH);
  const request = record(f['request']);
  const params = Object.entries(record(request['params']))
    .map(([k, v]) => ` ${printable(k)}=${text(v)}`)
    .join('');
  const host = request['hostProblem'] === undefined ? '' : ` [host: ${text(request['hostProblem'])}]`;
  const parts = [
    outcome,
    fn,
    caller(f['principal']),
    `${text(request['method'])} ${request['route'] === null ? '-' : text(request['route'])}${params}${host}`,
    `${text(f['latencyUs'])}µs`,
  ];
  const violations = Array.isArray(f['violations']) ? f['violations'].map((v) => `${text(record(v)['pointer'])} ${text(record(v)['keyword'])}`) : [];
  if (violations.length > 0) parts.push(`violations: ${violations.join(', ')}`);
  if (f['internal'] !== undefined) parts.push(`internal: ${text(f['internal'])}`);
  parts.push(`id=${text(f['decisionId'])}`);
  return parts.join(' ');
}

/** `alice (https://issuer.example.test)`, a SPIFFE ID, both, or `anonymous`. */
function caller(principal: unknown): string {
  if (typeof principal !== 'object' || principal === null) return 'anonymous';
  const p = record(principal);
  const who: string[] = [];
  if (p['subject'] !== undefined) who.push(`${text(p['subject'])} (${text(p['issuer'])})`);
  if (p['spiffeId'] !== undefined) who.push(text(p['spiffeId']));
  return who.length > 0 ? who.join(' ') : 'anonymous';
}

/** `{"ERR_OVERLOADED": 5}` as `ERR_OVERLOADED 5`; `none` when empty. */
function counts(value: unknown): string {
  const entries = Object.entries(record(value));
  return entries.length === 0 ? 'none' : entries.map(([code, n]) => `${printable(code)} ${text(n)}`).join(', ');
}

/** A digest's first 12 characters: enough to tell configurations apart by eye. */
function short(digest: string): string {
  return digest.length > 13 ? `${digest.slice(0, 12)}…` : digest;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function text(value: unknown): string {
  if (value === undefined) return '?';
  return printable(typeof value === 'string' ? value : JSON.stringify(value));
}
