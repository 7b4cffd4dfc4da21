import type { DecisionRecord } from './decision-record.js';
import type { ChainPosition } from './hash-chain.js';

/**
 * One decision-log line: `{"level":"info","time":ISO-8601,"seq":N,"prev":HASH,…record…,"msg":"decision"}`
 * and a newline, the shape pino writes, so `jq`, pino-pretty and log shippers read it as a pino line.
 * `seq` and `prev` are the hash chain (see hash-chain.ts).
 *
 * Serialized with a single `JSON.stringify` of the record instead of pino's per-key serializer:
 * the record is built by `toDecisionRecord` from plain data only (strings, numbers, booleans, null,
 * arrays and objects of those). `JSON.stringify` escapes lone surrogates, so every line is valid UTF-8 JSON.
 */
export function formatDecisionLine(record: DecisionRecord, time: string, at: ChainPosition): string {
  const body = JSON.stringify(record);
  // `body` is `{…}` with at least one key (decisionId is always set).
  return `{"level":"info","time":"${time}",${chain(at)},${body.slice(1, -1)},"msg":"decision"}\n`;
}

/**
 * A line about the log itself (a start, a gap after a failed sink, a summary of refused calls, a
 * checkpoint), in the same shape as decision lines and on the same chain, told apart by `msg`.
 */
export function formatEventLine(
  level: 'info' | 'warn' | 'error',
  time: string,
  at: ChainPosition,
  msg: string,
  fields: Readonly<Record<string, unknown>>,
): string {
  const body = JSON.stringify(fields);
  return `{"level":"${level}","time":"${time}",${chain(at)}${body.length > 2 ? `,${body.slice(1, -1)}` : ''},"msg":"${msg}"}\n`;
}

function chain(at: ChainPosition): string {
  return `"seq":${at.seq},"prev":${at.prev === null ? 'null' : `"${at.prev}"`}`;
}

/** ISO-8601 time of `ms`, reusing the last string while the millisecond has not changed. */
export function createIsoClock(now: () => number = Date.now): () => string {
  let lastMs = Number.NaN;
  let last = '';
  return () => {
    const ms = now();
    if (ms !== lastMs) {
      lastMs = ms;
      last = new Date(ms).toISOString();
    }
    return last;
  };
}
