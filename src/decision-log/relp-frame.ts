/**
 * RELP framing (librelp doc/relp.md, "RELP FRAME"):
 * `TXNR SP COMMAND SP DATALEN [SP DATA] TRAILER`, TXNR and DATALEN 1–9 digits, COMMAND 1–32 letters,
 * TRAILER a single LF; with DATALEN 0 there is neither the SP nor DATA.
 */
export interface RelpFrame {
  readonly txnr: number;
  readonly command: string;
  readonly data: Buffer;
}

/** The highest transaction number a frame can carry (9 digits; 0 is reserved for hints such as `serverclose`). */
export const MAX_TXNR = 999_999_999;
/**
 * A session is renewed (closed, a new one opened at the next write) once its numbers reach this:
 * librelp does not wrap to 1 (it expects 1000000000, which no frame can carry), so a session must
 * end before the last number; the margin is far more than one write's lines.
 */
export const TXNR_RENEW_AT = MAX_TXNR - 10_000_000;

/** The transaction number after `txnr` (no wrap: see TXNR_RENEW_AT). */
export function nextTxnr(txnr: number): number {
  return txnr + 1;
}

/** Encodes one frame. */
export function encodeFrame(txnr: number, command: string, data: Buffer): Buffer {
  const head = data.length === 0 ? `${txnr} ${command} 0` : `${txnr} ${command} ${data.length} `;
  return Buffer.concat([Buffer.from(head, 'latin1'), data, LF]);
}

const LF = Buffer.from('\n');
const SP = 0x20;

/**
 * A reader of frames from a byte stream cut anywhere: feed it each chunk, get the frames completed by it.
 * Throws on a framing error (the peer that detects one closes the connection: relp.md, "ERROR HANDLING")
 * and on DATALEN above `maxDataLen` (no buffer is grown for it).
 */
export function createFrameReader(maxDataLen: number): (chunk: Buffer) => RelpFrame[] {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    const frames: RelpFrame[] = [];
    let start = 0;
    for (;;) {
      const parsed = parseFrame(pending, start, maxDataLen);
      if (parsed === undefined) break;
      frames.push(parsed.frame);
      start = parsed.next;
    }
    pending = start === pending.length ? Buffer.alloc(0) : pending.subarray(start);
    return frames;
  };
}

/** One frame at `start`, or undefined when it is not complete yet. */
function parseFrame(buf: Buffer, start: number, maxDataLen: number): { frame: RelpFrame; next: number } | undefined {
  let at = start;
  /** The field up to the next SP (or LF, for DATALEN); undefined when the buffer ends first. */
  const field = (accept: (byte: number) => boolean, max: number, what: string, endsAtLf: boolean): string | undefined => {
    const from = at;
    while (at < buf.length) {
      const byte = buf[at] as number;
      if (byte === SP || (endsAtLf && byte === 0x0a)) {
        if (at === from) throw new Error(`RELP framing error: empty ${what}`);
        return buf.toString('latin1', from, at);
      }
      if (!accept(byte) || at - from >= max) throw new Error(`RELP framing error: bad ${what}`);
      at++;
    }
    return undefined;
  };
  const txnr = field(isDigit, 9, 'TXNR', false);
  if (txnr === undefined) return undefined;
  at++;
  const command = field(isLetter, 32, 'COMMAND', false);
  if (command === undefined) return undefined;
  at++;
  const lenText = field(isDigit, 9, 'DATALEN', true);
  if (lenText === undefined) return undefined;
  const dataLen = Number(lenText);
  if (dataLen > maxDataLen) throw new Error(`RELP framing error: DATALEN ${dataLen} above ${maxDataLen}`);
  // DATALEN 0: no SP, no data; the trailer follows at once.
  if (dataLen > 0) {
    if (buf[at] !== SP) throw new Error('RELP framing error: no SP before DATA');
    at++;
  }
  if (buf.length < at + dataLen + 1) return undefined;
  const data = Buffer.from(buf.subarray(at, at + dataLen));
  at += dataLen;
  if (buf[at] !== 0x0a) throw new Error('RELP framing error: no LF trailer');
  return { frame: { txnr: Number(txnr), command, data }, next: at + 1 };
}

const isDigit = (byte: number): boolean => byte >= 0x30 && byte <= 0x39;
const isLetter = (byte: number): boolean => (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);

/**
 * The status of a `rsp` frame's data: `STATUS [SP HUMAN-TEXT] [LF DATA]` (relp.md, "Command rsp");
 * 200 is OK, anything else an error. An empty rsp (the answer to `close`) has no status.
 */
export function parseResponse(data: Buffer): { readonly status: number | undefined; readonly text: string; readonly body: string } {
  const text = data.toString('utf8');
  const lf = text.indexOf('\n');
  const head = lf === -1 ? text : text.slice(0, lf);
  const status = /^\d{3}(?: |$)/.test(head) ? Number(head.slice(0, 3)) : undefined;
  return { status, text: head, body: lf === -1 ? '' : text.slice(lf + 1) };
}
