import type { IncomingMessage } from 'node:http';
import { printableAscii } from '../../printable-ascii.js';
import { parseStrictJson } from '../strict-json.js';
import { isObject } from './parse-jsonrpc.js';
import { createSseParser } from './sse-event-parser.js';

/**
 * Reads an MCP server's answer to one JSON-RPC request sent over streamable HTTP (MCP 2025-11-25,
 * basic/transports §"Sending Messages to the Server"): HTTP 200 with either one JSON object
 * (`application/json`) or an event stream (`text/event-stream`) that carries the response among
 * server notifications and requests, which a listing ignores. Everything else is refused with a
 * log-safe reason: no body text is ever quoted, only a JSON-RPC error's code and cut message.
 */

/** Largest response body read (a tools/list page included). */
export const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

/** The server's answer is not acceptable; `why` is log-safe. */
export class Refusal {
  constructor(readonly why: string) {}
}

// Schemas are config, not request data: deep nesting is fine, numbers need not be exact integers
// (as for schema files, src/payload/json/compile-input.ts). Duplicate keys are refused all the same.
const ANSWER_JSON_LIMITS = { maxDepth: 1000, exactNumbers: false } as const;

/** The `result` object of the response with `id`, or a Refusal. `res` is consumed or destroyed. */
export async function readJsonRpcResult(res: IncomingMessage, id: number): Promise<Record<string, unknown>> {
  if (res.statusCode !== 200) throw refuseStatus(res);
  const type = mediaType(res.headers['content-type']);
  if (type === 'application/json') {
    const message = parseAnswer(await readCapped(res));
    if (isObject(message) && 'method' in message) throw new Refusal('the answer is a JSON-RPC request or notification, not the response');
    return resultOf(message, id);
  }
  if (type === 'text/event-stream') return await readFromEventStream(res, id);
  res.destroy();
  throw new Refusal(`content-type ${JSON.stringify(printableAscii(type))} is neither application/json nor text/event-stream`);
}

/** Reads and discards a body (bounded), e.g. the answer to a notification. */
export async function drainCapped(res: IncomingMessage): Promise<void> {
  await readCapped(res);
}

/** A Refusal for an HTTP status other than the expected one; destroys the response. */
export function refuseStatus(res: IncomingMessage): Refusal {
  res.destroy();
  const status = res.statusCode ?? 0;
  return new Refusal(status >= 300 && status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}`);
}

async function readCapped(res: IncomingMessage): Promise<Uint8Array> {
  checkEncoding(res);
  const declared = Number(res.headers['content-length'] ?? 0);
  if (declared > MAX_ANSWER_BYTES) throw tooLarge(res);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) throw tooLarge(res);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function readFromEventStream(res: IncomingMessage, id: number): Promise<Record<string, unknown>> {
  checkEncoding(res);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const parser = createSseParser();
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) throw tooLarge(res);
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch {
      throw new Refusal('the event stream is not valid UTF-8');
    }
    for (const event of parser.push(text)) {
      // The SDK's priming event (an id, empty data) and other event types carry no message.
      if (event.event !== 'message' || event.data === '') continue;
      const message = parseAnswer(Buffer.from(event.data, 'utf8'));
      // A server may send its own notifications and requests before the response (MCP transports §"Sending Messages").
      if (isObject(message) && 'method' in message) continue;
      // Leaving the loop destroys the response: a stream the server keeps open cannot hold the socket.
      return resultOf(message, id);
    }
  }
  throw new Refusal('the event stream ended without the response');
}

function parseAnswer(bytes: Uint8Array): unknown {
  const parsed = parseStrictJson(bytes, ANSWER_JSON_LIMITS);
  if (!parsed.ok) throw new Refusal(`the answer is not acceptable JSON: ${parsed.reason} at offset ${parsed.offset}`);
  return parsed.value;
}

/** JSON-RPC 2.0 §5: exactly one of `result` and `error`, the request's id. */
function resultOf(message: unknown, id: number): Record<string, unknown> {
  if (!isObject(message) || message.jsonrpc !== '2.0' || 'result' in message === 'error' in message) {
    throw new Refusal('the answer is not a JSON-RPC 2.0 response');
  }
  const { error, result } = message;
  // An error about a request the server could not read carries id null (JSON-RPC 2.0 §5).
  if (message.id !== id && !(error !== undefined && message.id === null)) throw new Refusal(`the response's id is not the request's (${id})`);
  if (error !== undefined) {
    if (!isObject(error) || !Number.isInteger(error.code) || typeof error.message !== 'string') {
      throw new Refusal('the answer is not a JSON-RPC 2.0 response (malformed error)');
    }
    throw new Refusal(`JSON-RPC error ${error.code}: ${JSON.stringify(printableAscii(error.message))}`);
  }
  if (!isObject(result)) throw new Refusal('the JSON-RPC result is not an object');
  return result;
}

/** The media type of a Content-Type value, lower case, without parameters (RFC 9110 §8.3.1). */
function mediaType(value: string | undefined): string {
  return (value ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
}

function checkEncoding(res: IncomingMessage): void {
  const encoding = res.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    res.destroy();
    throw new Refusal('a content-encoding was applied that was not asked for');
  }
}

function tooLarge(res: IncomingMessage): Refusal {
  res.destroy();
  return new Refusal(`the answer is larger than ${MAX_ANSWER_BYTES} bytes`);
}
