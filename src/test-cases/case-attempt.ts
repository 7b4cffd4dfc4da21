import { readFileSync } from 'node:fs';
import type { CallAttempt } from '../call-attempt.js';
import type { CaseIdentity } from './case-identity.js';
import type { TestCase } from './load-cases.js';

/**
 * A case's request as Envoy would report it: lower-cased headers (a body defaults to
 * `content-type: application/json`), the credential's `Authorization` header, the connection's TLS and
 * peer, the body whole (never partial).
 */
export function caseAttempt(c: TestCase, identity: CaseIdentity, requestId: string): CallAttempt {
  const { request } = c;
  const headers: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(request.headers ?? {})) headers[name.toLowerCase()] = value;
  const bytes = bodyBytes(c);
  if (bytes !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
  if (identity.authorization !== undefined) headers['authorization'] = identity.authorization;
  headers[':method'] = request.method;
  headers[':path'] = request.path;
  headers[':authority'] = request.host;
  headers[':scheme'] = c.tls ? 'https' : 'http';
  return {
    requestId,
    method: request.method,
    path: request.path,
    host: request.host,
    headers,
    contextExtensions: {},
    transport: identity.peer === undefined ? { tls: c.tls } : { tls: c.tls, peer: identity.peer },
    body: { bytes, partial: false },
    sourceAddress: '127.0.0.1:0',
  };
}

function bodyBytes(c: TestCase): Uint8Array | undefined {
  const { body, bodyFile } = c.request;
  if (bodyFile !== undefined) return new Uint8Array(readFileSync(bodyFile));
  if (body === undefined) return undefined;
  return Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
}
