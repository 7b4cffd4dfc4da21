import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPki } from '../../scripts/lib/dev-pki.js';
import { ENVOY_SPIFFE_ID } from '../../scripts/lib/stack-config.js';
import { type FunctionProcess, startFunction } from '../../scripts/lib/stack-processes.js';
import { issueLeaf, revokeLeaf } from '../helpers/pki-files.js';
import { AEAD_TLS12_OFFERS, probeTls, REFUSED_OFFERS, TLS13_OFFER } from '../helpers/tls-probe.js';

// The example function's TLS (examples/function/server.ts), as the stack starts it (with the dev CA's
// ca.crl), probed by a real TLS client presenting Envoy's client certificate.
let dir: string;
let fn: FunctionProcess;
const pki = (file: string) => readFileSync(path.join(dir, file));
const asEnvoy = (name = 'envoy-client'): ConnectionOptions => ({
  ca: pki('ca.crt'),
  servername: 'function',
  cert: pki(`${name}.crt`),
  key: pki(`${name}.key`),
});

beforeAll(async () => {
  dir = path.join(await mkdtemp(path.join(tmpdir(), 'callguard-fn-tls-')), 'pki');
  createPki(dir);
  // Envoy's identity on a certificate the CA has since revoked (the CRL is read when the function starts).
  issueLeaf(dir, 'envoy-client-revoked', { days: 2, san: `URI:${ENVOY_SPIFFE_ID}` });
  revokeLeaf(dir, 'envoy-client-revoked');
  fn = await startFunction({ pkiDir: dir, port: 0 });
});
afterAll(async () => {
  await fn?.stop();
  await rm(path.dirname(dir), { recursive: true, force: true });
});

describe('example function: TLS versions and suites', () => {
  it.each([TLS13_OFFER, ...AEAD_TLS12_OFFERS, ...REFUSED_OFFERS])('$name → handshake ok: $ok', async ({ options, ok }) => {
    const result = await probeTls(fn.ready, { ...asEnvoy(), ...options });
    expect(result.ok, JSON.stringify(result)).toBe(ok);
  });

  it("a revoked client certificate (Envoy's SAN, from the CA) fails the handshake", async () => {
    // TLS 1.2: the client certificate is judged inside the handshake (Node then resets the connection).
    expect(await probeTls(fn.ready, { ...asEnvoy('envoy-client-revoked'), maxVersion: 'TLSv1.2' })).toMatchObject({ ok: false });
    expect(await probeTls(fn.ready, { ...asEnvoy(), maxVersion: 'TLSv1.2' })).toMatchObject({ ok: true });
  });
});

/**
 * `openssl s_client -tls1_2` presenting Envoy's certificate: once connected, type `R` (renegotiate), then
 * an HTTP request. Resolves with everything s_client printed when it exits (bounded: 10 s).
 */
function renegotiateThenRequest(port: number): Promise<string> {
  return new Promise((resolve) => {
    const file = (name: string) => path.join(dir, name);
    const client = spawn('openssl', [
      ...['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_2', '-servername', 'function', '-CAfile', file('ca.crt')],
      ...['-cert', file('envoy-client.crt'), '-key', file('envoy-client.key')],
    ]);
    let output = '';
    let step = 0;
    const onOutput = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (step === 0 && output.includes('Verify return code: 0 (ok)')) {
        step = 1;
        client.stdin.write('R\n');
      } else if (step === 1 && output.includes('RENEGOTIATING')) {
        step = 2;
        // Sent right away: when the server refuses, it closes the connection and this goes nowhere.
        client.stdin.write('GET / HTTP/1.1\r\nHost: function\r\n\r\n');
      } else if (step === 2 && output.includes('HTTP/1.1 ')) {
        client.stdin.end(); // answered: s_client exits at the end of its input
      }
    };
    client.stdout.on('data', onOutput);
    client.stderr.on('data', onOutput);
    const timer = setTimeout(() => client.kill(), 10_000);
    client.on('close', () => {
      clearTimeout(timer);
      resolve(output);
    });
  });
}

describe('example function: no client-initiated renegotiation', () => {
  it("a TLS 1.2 client typing s_client's R is disconnected; its next request gets no answer", async () => {
    const output = await renegotiateThenRequest(fn.ready);
    expect(output).toContain('RENEGOTIATING');
    expect(output).not.toContain('HTTP/1.1 ');
  });
});
