import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { connect } from 'node:net';
import path from 'node:path';
import type { DecisionRecord } from '../../src/decision-log/decision-record.js';
import type { TestStack } from './stack-harness.js';

export interface StackResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** Envoy's x-request-id (always_set_request_id_in_response), the key into the decision log. */
  readonly requestId: string;
  json<T = Record<string, unknown>>(): T;
}

export interface SendOptions {
  readonly method?: string;
  /** Sent byte for byte: node does not normalize `//`, `%2F` or `..`. */
  readonly path: string;
  readonly token?: string;
  /** An array is sent as that many header lines; values go out as latin-1 bytes (node's encoding). */
  readonly headers?: Record<string, string | readonly string[]>;
  readonly body?: string | Buffer;
  /**
   * Present the example client certificate (SPIFFE ID spiffe://example.org/ns/default/sa/billing), or the
   * certificate NAME.crt / NAME.key of the stack's PKI.
   */
  readonly clientCert?: boolean | string;
}

/** One HTTPS request to Envoy's listener, trusting only the dev CA and checking Envoy's SAN. */
export function send(stack: TestStack, options: SendOptions): Promise<StackResponse> {
  const pki = (f: string) => readFileSync(path.join(stack.pkiDir, f));
  const clientCertificate = (name: string) => ({ cert: pki(`${name}.crt`), key: pki(`${name}.key`) });
  const headers: Record<string, string | number | string[]> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name] = typeof value === 'string' ? value : [...value];
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  if (options.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = Buffer.byteLength(options.body);
  }
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: stack.envoyPort,
        servername: 'envoy',
        method: options.method ?? 'GET',
        path: options.path,
        headers,
        ca: pki('ca.crt'),
        ...(options.clientCert ? clientCertificate(options.clientCert === true ? 'client' : options.clientCert) : {}),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            requestId: String(res.headers['x-request-id'] ?? ''),
            json: <T>() => JSON.parse(text) as T,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Write raw bytes to a port and collect whatever comes back until the peer closes. */
export function sendRaw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', () => undefined);
    socket.setTimeout(5000, () => socket.destroy());
    socket.write(bytes);
  });
}

/** A decision-log line, as far as these tests look at it (the fields of the real record type). */
export type LoggedDecision = Pick<DecisionRecord, 'decisionId' | 'requestId' | 'function' | 'outcome' | 'status' | 'code' | 'principal'>;

export async function readDecisions(stack: TestStack): Promise<LoggedDecision[]> {
  return (await Promise.all(stack.decisionLogs.map(readDecisionLog))).flat();
}

/** The complete lines of one replica's decision log (none when it does not exist yet). */
export async function readDecisionLog(file: string): Promise<LoggedDecision[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  // A line still being written has no newline yet: leave it for the next read.
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as LoggedDecision);
}

/**
 * The decision-log lines for `requestId`, once at least one is there. The log is written
 * asynchronously, so this polls the file (bounded), it does not sleep a fixed time.
 */
export async function decisionsFor(stack: TestStack, requestId: string, timeoutMs = 3000): Promise<LoggedDecision[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = (await readDecisions(stack)).filter((d) => d.requestId === requestId);
    if (lines.length > 0 || Date.now() > deadline) return lines;
    await new Promise((r) => setTimeout(r, 20));
  }
}
