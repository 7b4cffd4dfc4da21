/**
 * A decision-log line, parsed: its `msg` and `time` (every line of the log has both) and the rest of
 * its fields as untrusted JSON (a line read from a file may have been written by anyone).
 */
export interface LogLine {
  readonly msg: string;
  readonly time: string;
  /** `time` in epoch milliseconds. */
  readonly ms: number;
  readonly fields: Readonly<Record<string, unknown>>;
}

export type ParsedLine =
  /** `body`: the line from its first `{` (a `docker compose logs` prefix removed), newline kept. */
  | { readonly ok: true; readonly line: LogLine; readonly body: Buffer; readonly prefixed: boolean }
  /** `text`: the whole line as read, without its newline, for showing it. */
  | { readonly ok: false; readonly text: string; readonly why: string; readonly body: Buffer };

/** CSI sequences (`ESC [ … m` and friends): the colours `docker compose logs` puts around its prefix. */
const ANSI = new RegExp(`${String.fromCharCode(0x1b)}\\[[0-9;?]*[A-Za-z]`, 'g');
/**
 * What may stand before the JSON: `docker compose logs` (`callguard-1  | `, with `-t` a timestamp
 * after the bar), `kubectl logs --prefix` (`[pod/callguard-x/callguard] `), or blanks.
 */
const PREFIX = /^\s*(?:[\w.@/:-]+\s*\|\s?|\[[^\]]*\]\s?)?\s*(?:\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d)\s+)?$/;
const OPEN_BRACE = 0x7b;

/**
 * Parses one line (its bytes, with or without the newline). A line that is not a JSON object with a
 * string `msg` and an ISO-8601 `time` is returned as not ok, with why, so the caller can show it.
 */
export function parseLogLine(bytes: Buffer): ParsedLine {
  const brace = bytes.indexOf(OPEN_BRACE);
  const text = (): string => bytes.toString('utf8').replace(/\r?\n$/, '');
  if (brace === -1) return { ok: false, text: text(), why: 'not JSON', body: bytes };
  const prefix = bytes.subarray(0, brace).toString('utf8').replace(ANSI, '');
  if (!PREFIX.test(prefix)) return { ok: false, text: text(), why: 'not JSON', body: bytes };
  const body = brace === 0 ? bytes : bytes.subarray(brace);
  let value: unknown;
  try {
    // Escape codes are stripped from the prefix only: a body that is not JSON as it stands is not a log
    // line (the log escapes control characters), and `--json` prints the body as it stands.
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, text: text(), why: 'not JSON', body };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, text: text(), why: 'not a JSON object', body };
  const fields = value as Record<string, unknown>;
  const { msg, time } = fields;
  const ms = typeof time === 'string' ? Date.parse(time) : Number.NaN;
  if (typeof msg !== 'string' || typeof time !== 'string' || Number.isNaN(ms)) return { ok: false, text: text(), why: 'not a log line (no msg or time)', body };
  return { ok: true, line: { msg, time, ms, fields }, body, prefixed: brace !== 0 };
}
