/** gRPC over HTTP/2: `Length-Prefixed-Message = Compressed-Flag Message-Length Message`. */
const PREFIX = 5;

export type GrpcFrames = { ok: true; messages: readonly Uint8Array[] } | { ok: false; detail: string };

/**
 * Splits a gRPC request body into its messages (PROTOCOL-HTTP2.md, "Requests": a Compressed-Flag byte,
 * a 4-byte big-endian Message-Length, the message). Refused: no message, a prefix or message cut short,
 * bytes after the last message, a compressed message (flag 1: callguard would validate bytes the function
 * decompresses), a flag other than 0 or 1, more than `maxMessages`. Details name offsets and counts only.
 * The messages are views into `body`, not copies.
 */
export function readGrpcFrames(body: Uint8Array, maxMessages: number): GrpcFrames {
  const messages: Uint8Array[] = [];
  let at = 0;
  while (at < body.length) {
    if (messages.length === maxMessages) {
      return fail(maxMessages === 1 ? 'more than one message; this method takes one' : `more than ${maxMessages} messages`);
    }
    if (body.length - at < PREFIX) return fail(`a message prefix at offset ${at} is cut short (${body.length - at} of 5 bytes)`);
    const flag = body[at] as number;
    if (flag === 1) return fail(`the message at offset ${at} is compressed; send messages uncompressed (grpc-encoding identity)`);
    if (flag !== 0) return fail(`the message at offset ${at} has compressed-flag ${flag} (0 or 1 allowed)`);
    // Bytes 1..4 as an unsigned 32-bit big-endian length (>>> 0 keeps lengths of 2^31 and more positive).
    const length = (((body[at + 1] as number) << 24) | ((body[at + 2] as number) << 16) | ((body[at + 3] as number) << 8) | (body[at + 4] as number)) >>> 0;
    const start = at + PREFIX;
    if (length > body.length - start) {
      return fail(`the message at offset ${at} declares ${length} bytes but ${body.length - start} follow`);
    }
    messages.push(body.subarray(start, start + length));
    at = start + length;
  }
  return messages.length === 0 ? fail('no message') : { ok: true, messages };
}

function fail(detail: string): GrpcFrames {
  return { ok: false, detail };
}
