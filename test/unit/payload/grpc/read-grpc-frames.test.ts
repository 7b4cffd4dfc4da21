import { describe, expect, it } from 'vitest';
import { readGrpcFrames } from '../../../../src/payload/grpc/read-grpc-frames.js';
import { concat, grpcFrame } from '../../../helpers/grpc-example.js';

const msg = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i + 1);

describe('readGrpcFrames refuses', () => {
  it.each([
    { name: 'empty body', body: new Uint8Array(0), max: 1, detail: /no message/ },
    { name: 'prefix cut short', body: Uint8Array.of(0, 0, 0), max: 1, detail: /offset 0 is cut short \(3 of 5 bytes\)/ },
    { name: 'message cut short', body: grpcFrame(msg(4), 0, 9), max: 1, detail: /declares 9 bytes but 4 follow/ },
    { name: 'oversized length (2^32 - 1)', body: grpcFrame(msg(3), 0, 0xffffffff), max: 1, detail: /declares 4294967295 bytes but 3 follow/ },
    { name: 'length shorter than the bytes (trailing bytes)', body: grpcFrame(msg(6), 0, 2), max: 1, detail: /more than one message/ },
    { name: 'trailing bytes after the last message', body: concat(grpcFrame(msg(2)), Uint8Array.of(0, 0)), max: 2, detail: /offset 7 is cut short/ },
    { name: 'compressed flag', body: grpcFrame(msg(2), 1), max: 1, detail: /compressed; send messages uncompressed/ },
    { name: 'flag neither 0 nor 1', body: grpcFrame(msg(2), 2), max: 1, detail: /compressed-flag 2/ },
    {
      name: 'two messages where one is allowed',
      body: concat(grpcFrame(msg(2)), grpcFrame(msg(1))),
      max: 1,
      detail: /more than one message; this method takes one/,
    },
    { name: 'four messages where three are allowed', body: concat(...[1, 2, 3, 4].map((n) => grpcFrame(msg(n)))), max: 3, detail: /more than 3 messages/ },
    { name: 'compressed second message', body: concat(grpcFrame(msg(2)), grpcFrame(msg(2), 1)), max: 2, detail: /offset 7 is compressed/ },
  ])('$name', ({ body, max, detail }) => {
    const result = readGrpcFrames(body, max);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.detail).toMatch(detail);
  });
});

describe('readGrpcFrames reads', () => {
  it.each([
    { name: 'one message', body: grpcFrame(msg(3)), max: 1, want: [msg(3)] },
    { name: 'one empty message (all defaults)', body: grpcFrame(msg(0)), max: 1, want: [msg(0)] },
    { name: 'three messages', body: concat(grpcFrame(msg(1)), grpcFrame(msg(0)), grpcFrame(msg(2))), max: 3, want: [msg(1), msg(0), msg(2)] },
  ])('$name', ({ body, max, want }) => {
    const result = readGrpcFrames(body, max);
    expect(result).toEqual({ ok: true, messages: want });
  });
});
