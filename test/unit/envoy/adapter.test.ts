import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import type { Allow, Deny } from '../../../src/decision.js';
import { toCallAttempt } from '../../../src/envoy/to-call-attempt.js';
import { toCheckResponse } from '../../../src/envoy/to-check-response.js';
import { HeaderValueOption_HeaderAppendAction } from '../../../src/gen/envoy/config/core/v3/base_pb.js';
import { CheckRequestSchema } from '../../../src/gen/envoy/service/auth/v3/external_auth_pb.js';
import { envoyCheckRequest, summarize } from '../../helpers/envoy-check.js';

describe('toCallAttempt: transport facts come only from Envoy', () => {
  it.each([
    { name: 'TLS listener', shape: {}, tls: true },
    { name: 'plaintext', shape: { tls: false }, tls: false },
    {
      name: 'plaintext with forged x-forwarded-proto and :scheme',
      shape: { tls: false, headers: { 'x-forwarded-proto': 'https', ':scheme': 'https', 'x-forwarded-client-cert': 'By=spiffe://example.org/x' } },
      tls: false,
    },
  ])('$name', ({ shape, tls }) => {
    const result = toCallAttempt(envoyCheckRequest(shape));
    if (!result.ok) throw new Error(result.internal);
    expect(result.attempt.transport.tls).toBe(tls);
  });

  it('ignores a peer on a plaintext connection and url-decodes the certificate', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nAB+/=\n-----END CERTIFICATE-----\n';
    const plain = toCallAttempt(envoyCheckRequest({ tls: false, peer: { principal: 'spiffe://example.org/x', pem } }));
    const tls = toCallAttempt(envoyCheckRequest({ peer: { principal: 'spiffe://example.org/x', pem } }));
    expect(plain.ok && plain.attempt.transport.peer).toBe(undefined);
    expect(tls.ok && tls.attempt.transport.peer).toEqual({ principal: 'spiffe://example.org/x', certificatePem: pem });
  });

  it.each([
    { name: 'whole body', shape: { body: '{"a":1}' }, bytes: 7, partial: false },
    { name: 'partial body', shape: { body: '{"a":', partial: true }, bytes: 5, partial: true },
    { name: 'no body', shape: {}, bytes: undefined, partial: false },
  ])('body: $name', ({ shape, bytes, partial }) => {
    const result = toCallAttempt(envoyCheckRequest(shape));
    if (!result.ok) throw new Error(result.internal);
    expect(result.attempt.body.bytes?.length).toBe(bytes);
    expect(result.attempt.body.partial).toBe(partial);
    expect(result.attempt.sourceAddress).toBe('10.0.0.7:51234');
    expect(result.attempt.requestId).toBe('req-1');
  });

  it.each([
    { name: 'no attributes', request: create(CheckRequestSchema, {}) },
    { name: 'no http request', request: create(CheckRequestSchema, { attributes: { destination: { principal: 'envoy' } } }) },
    { name: 'no method', request: create(CheckRequestSchema, { attributes: { request: { http: { path: '/x' } } } }) },
    { name: 'no path', request: create(CheckRequestSchema, { attributes: { request: { http: { method: 'GET', headers: { ':path': '/x' } } } } }) },
  ])('malformed: $name', ({ request }) => {
    const result = toCallAttempt(request);
    expect(result.ok ? undefined : result.code).toBe('ERR_REQUEST_MALFORMED');
  });
});

describe('toCheckResponse', () => {
  const allow: Allow = {
    allow: true,
    status: 200,
    decisionId: 'd-1',
    functionName: 'f',
    caller: {},
    setHeaders: { 'x-callguard-subject': 'alice', 'x-callguard-decision-id': 'd-1' },
    removeHeaders: ['authorization', 'x-callguard-evil'],
    removeQueryParameters: [],
  };
  it('allows with OK status, overwriting identity headers and removing the credential', () => {
    const response = toCheckResponse(allow, 'x-callguard-');
    expect(response.status?.code).toBe(0);
    expect(response.httpResponse.case).toBe('okResponse');
    const ok = response.httpResponse.value as { headers: { appendAction: number }[]; headersToRemove: string[] };
    expect(ok.headers.every((h) => h.appendAction === HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD)).toBe(true);
    expect(summarize(response)).toMatchObject({ allow: true, headers: allow.setHeaders, remove: ['authorization', 'x-callguard-evil'] });
  });

  it.each([
    { name: '401 with challenge', status: 401, code: 'ERR_TOKEN_EXPIRED' as const, grpc: 16, www: 'Bearer realm="callguard", error="invalid_token"' },
    { name: '403', status: 403, code: 'ERR_NOT_PERMITTED' as const, grpc: 7, www: undefined },
    { name: '400 with violations', status: 400, code: 'ERR_BODY_SCHEMA' as const, grpc: 7, www: undefined },
  ])('denies explicitly: $name', ({ status, code, grpc, www }) => {
    const deny: Deny = {
      allow: false,
      status,
      code,
      decisionId: 'd-2',
      detail: 'public detail',
      violations: [{ code, pointer: '/a', keyword: 'type', detail: 'must be integer' }],
      internal: 'SECRET-INTERNAL',
      ...(www ? { wwwAuthenticate: www } : {}),
    };
    const response = toCheckResponse(deny, 'x-callguard-');
    const s = summarize(response);
    expect(s.allow).toBe(false);
    if (s.allow) return;
    expect(s.problem.code).toBe(code);
    expect(s.grpc).toBe(grpc);
    expect(s.status).toBe(status);
    expect(s.headers['content-type']).toBe('application/problem+json');
    expect(s.headers['x-callguard-decision-id']).toBe('d-2');
    expect(s.headers['www-authenticate']).toBe(www);
    expect(s.problem).toMatchObject({
      status,
      decisionId: 'd-2',
      type: `urn:callguard:reason:${code}`,
      violations: [{ pointer: '/a', keyword: 'type', detail: 'must be integer' }],
    });
    expect(JSON.stringify(response)).not.toContain('SECRET-INTERNAL');
  });
});
