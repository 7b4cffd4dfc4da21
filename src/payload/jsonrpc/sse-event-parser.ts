/**
 * Incremental Server-Sent Events parser (WHATWG HTML §9.2.6 "Interpreting an event stream"), for the
 * MCP streamable HTTP transport, where a server may answer a POST with `text/event-stream`.
 *
 * Text in, events out: the caller decodes UTF-8 (a streaming TextDecoder, which also drops the one
 * leading BOM the standard allows). Lines end in CRLF, LF or CR, also when a CRLF is split across
 * chunks; `:` lines are comments; `data:` lines join with LF; an event without data is not dispatched;
 * an unterminated event at the end of the stream is dropped (as the standard says).
 */

/** One dispatched event. `event` is `message` unless the stream named another type. */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
}

export interface SseParser {
  /** Feeds the next decoded chunk; returns the events it completed. */
  push(text: string): SseEvent[];
}

export function createSseParser(): SseParser {
  let line = '';
  let afterCr = false;
  let data: string[] = [];
  let type = '';

  const takeLine = (complete: string, out: SseEvent[]): void => {
    if (complete === '') {
      // Dispatch: no data lines, no event (the type is reset either way).
      if (data.length > 0) out.push({ event: type === '' ? 'message' : type, data: data.join('\n') });
      data = [];
      type = '';
      return;
    }
    if (complete.charCodeAt(0) === 0x3a) return; // `:` comment (keep-alives)
    const colon = complete.indexOf(':');
    const field = colon === -1 ? complete : complete.slice(0, colon);
    let value = colon === -1 ? '' : complete.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') type = value;
    // `id` and `retry` serve reconnection, which a one-shot listing never does; other fields are ignored.
  };

  return {
    push(text) {
      const out: SseEvent[] = [];
      let start = 0;
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c !== 0x0a && c !== 0x0d) continue;
        const lf = c === 0x0a;
        // The LF of a CRLF whose CR ended the previous line (possibly in the previous chunk).
        if (lf && afterCr && i === start) {
          afterCr = false;
          start = i + 1;
          continue;
        }
        takeLine(line + text.slice(start, i), out);
        line = '';
        afterCr = !lf;
        start = i + 1;
      }
      if (start < text.length) {
        line += text.slice(start);
        afterCr = false;
      }
      return out;
    },
  };
}
