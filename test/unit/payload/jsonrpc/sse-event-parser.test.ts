import { describe, expect, it } from 'vitest';
import { createSseParser, type SseEvent } from '../../../../src/payload/jsonrpc/sse-event-parser.js';

/** Feeds `chunks` one after the other and collects every event. */
function parse(chunks: readonly string[]): SseEvent[] {
  const parser = createSseParser();
  return chunks.flatMap((chunk) => parser.push(chunk));
}

describe('createSseParser (WHATWG HTML §9.2.6)', () => {
  it.each([
    { name: 'one LF-terminated event', chunks: ['data: {}\n\n'], events: [{ event: 'message', data: '{}' }] },
    { name: 'CRLF line ends', chunks: ['data: a\r\n\r\n'], events: [{ event: 'message', data: 'a' }] },
    { name: 'CR line ends', chunks: ['data: a\r\r'], events: [{ event: 'message', data: 'a' }] },
    {
      name: 'a CRLF split across chunks is one line end',
      chunks: ['data: a\r', '\n', '\r', '\ndata: b\n\n'],
      events: [
        { event: 'message', data: 'a' },
        { event: 'message', data: 'b' },
      ],
    },
    { name: 'multi-line data joins with LF', chunks: ['data: a\ndata:b\ndata:  c\n\n'], events: [{ event: 'message', data: 'a\nb\n c' }] },
    { name: 'comments are skipped', chunks: [': keep-alive\n\n:x\ndata: a\n\n'], events: [{ event: 'message', data: 'a' }] },
    {
      name: 'a named event type',
      chunks: ['event: ping\ndata: 1\n\ndata: 2\n\n'],
      events: [
        { event: 'ping', data: '1' },
        { event: 'message', data: '2' },
      ],
    },
    { name: 'an event without data is not dispatched', chunks: ['id: 7\nretry: 10\n\nevent: x\n\n'], events: [] },
    { name: 'empty data (the SDK priming event) is an event with empty data', chunks: ['id: 1\ndata: \n\n'], events: [{ event: 'message', data: '' }] },
    { name: 'a field without a colon is the field name with an empty value', chunks: ['data\ndata\n\n'], events: [{ event: 'message', data: '\n' }] },
    { name: 'a line split across chunks', chunks: ['da', 'ta: {"a"', ':1}\n', '\n'], events: [{ event: 'message', data: '{"a":1}' }] },
    { name: 'an unterminated last event is dropped', chunks: ['data: a\n\ndata: b\n'], events: [{ event: 'message', data: 'a' }] },
  ])('$name', ({ chunks, events }) => {
    expect(parse(chunks)).toEqual(events);
  });
});
