import { toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import type { Allow } from '../../../src/decision.js';
import { encodeAllow } from '../../../src/envoy/encode-allow.js';
import { toCheckResponse } from '../../../src/envoy/to-check-response.js';
import { CheckResponseSchema } from '../../../src/gen/envoy/service/auth/v3/external_auth_pb.js';

const allow = (setHeaders: Record<string, string>, removeHeaders: string[], removeQueryParameters: string[] = []): Allow => ({
  allow: true,
  status: 200,
  decisionId: 'd',
  functionName: 'f',
  caller: {},
  setHeaders,
  removeHeaders,
  removeQueryParameters,
});

describe('encodeAllow: byte-identical to the generated encoder', () => {
  it.each([
    { name: 'typical', decision: allow({ 'x-callguard-function': 'orders.create', 'x-callguard-subject': 'alice' }, ['authorization']) },
    { name: 'no headers at all', decision: allow({}, []) },
    { name: 'non-ASCII value', decision: allow({ 'x-callguard-groups': 'zoë,日本' }, ['authorization', 'x-callguard-spiffe-id']) },
    { name: 'value over 127 bytes (two-byte lengths)', decision: allow({ 'x-callguard-groups': 'g'.repeat(300) }, ['authorization']) },
    { name: 'value over 16 KiB (three-byte lengths)', decision: allow({ 'x-callguard-groups': 'g'.repeat(20000) }, ['x'.repeat(200)]) },
    { name: 'empty value', decision: allow({ 'x-callguard-groups': '' }, []) },
    { name: 'query parameters to remove', decision: allow({ 'x-callguard-function': 'f' }, ['authorization'], ['access_token', 'api_key']) },
  ])('$name', ({ decision }) => {
    const generated = toBinary(CheckResponseSchema, toCheckResponse(decision, 'x-callguard-'));
    expect(Buffer.from(encodeAllow(decision)).equals(Buffer.from(generated))).toBe(true);
  });
});
