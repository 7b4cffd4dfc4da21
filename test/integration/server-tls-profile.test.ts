import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path, { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPki } from '../../scripts/lib/dev-pki.js';
import { ENVOY_SPIFFE_ID } from '../../scripts/lib/stack-config.js';
import { parseConfig } from '../../src/config/load-config.js';
import { type RunningServer, startGrpcServer } from '../../src/server/grpc-server.js';
import { configProblems } from '../helpers/config-problems.js';
import { createCheckClient, envoyCheckBytes } from '../helpers/envoy-check.js';
import { issueLeaf, revokeLeaf } from '../helpers/pki-files.js';
import { createTestCerts } from '../helpers/test-certs.js';
import { AEAD_TLS12_OFFERS, type ProbeRow, probeTls, REFUSED_OFFERS, TLS13_OFFER } from '../helpers/tls-probe.js';

const certs = createTestCerts();
const FILE = join(certs.dir, 'callguard.yaml');
const serverCert = certs.leaf('callguard', 'DNS:callguard,IP:127.0.0.1');
const envoyClient = certs.leaf('envoy-client', 'DNS:envoy');

/** A callguard config whose server.tls carries `extra` (YAML flow-mapping entries). */
const config = (extra: string) => `
server:
  listen: "127.0.0.1:0"
  tls: { cert: ${serverCert.certFile}, key: ${serverCert.keyFile}, clientCa: ${certs.dir}/ca.pem${extra} }
identity:
  issuers: [{ name: corp, issuer: https://idp.example.test, audiences: [callguard], algorithms: [ES256], jwksFile: jwks.json }]
functions:
  - { name: reports.run, allow: [{ issuer: corp, groups: [g] }] }
`;

afterAll(() => certs.cleanup());

describe('server.tls.minVersion and ciphers: defaults and refusals', () => {
  it('defaults to TLS 1.3 and AEAD suites only', () => {
    const tls = parseConfig(config(''), FILE).server.tls;
    expect(tls?.minVersion).toBe('TLSv1.3');
    expect(tls?.ciphers).toContain('TLS_AES_128_GCM_SHA256');
    for (const suite of tls?.ciphers ?? []) expect(suite).toMatch(/^TLS_|^ECDHE-(ECDSA|RSA)-(AES\d+-GCM-SHA\d+|CHACHA20-POLY1305)$/);
  });

  it.each([
    { name: 'TLS 1.1', extra: ', minVersion: TLSv1.1', path: '/server/tls/minVersion' },
    { name: 'TLS 1.0', extra: ', minVersion: TLSv1', path: '/server/tls/minVersion' },
    { name: 'a CBC suite', extra: ', ciphers: [ECDHE-ECDSA-AES128-SHA]', path: '/server/tls/ciphers/0' },
    { name: 'CBC with SHA-256', extra: ', ciphers: [TLS_AES_128_GCM_SHA256, AES128-SHA256]', path: '/server/tls/ciphers/1' },
    { name: 'CCM8', extra: ', ciphers: [ECDHE-ECDSA-AES128-CCM8]', path: '/server/tls/ciphers/0' },
    { name: 'ARIA', extra: ', ciphers: [ECDHE-ECDSA-ARIA128-GCM-SHA256]', path: '/server/tls/ciphers/0' },
    { name: 'an OpenSSL cipher string', extra: ', ciphers: ["HIGH:!aNULL"]', path: '/server/tls/ciphers/0' },
    { name: 'no suite at all', extra: ', ciphers: []', path: '/server/tls/ciphers' },
  ])('$name: refused, naming $path', ({ extra, path }) => {
    const problems = configProblems(config(extra), FILE);
    expect(problems.map((p) => p.path)).toEqual([path]);
  });
});

/**
 * What a real TLS client (node:tls, OpenSSL 3, at security level 0 so it can OFFER the weak options)
 * gets from callguard's gRPC server. It presents Envoy's client certificate, so a refusal is about the
 * protocol and suite, not mTLS.
 */
const PROFILES: ReadonlyArray<{ profile: string; extra: string; rows: readonly ProbeRow[] }> = [
  {
    profile: 'default (TLS 1.3 only)',
    extra: '',
    rows: [TLS13_OFFER, ...AEAD_TLS12_OFFERS.map((row) => ({ ...row, ok: false })), ...REFUSED_OFFERS],
  },
  { profile: 'minVersion: TLSv1.2 (AEAD suites)', extra: ', minVersion: TLSv1.2', rows: [TLS13_OFFER, ...AEAD_TLS12_OFFERS, ...REFUSED_OFFERS] },
];

describe.each(PROFILES)('callguard gRPC server, $profile', ({ extra, rows }) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startGrpcServer(parseConfig(config(extra), FILE).server, () => new Uint8Array());
  });
  afterAll(() => server.close(500));

  it.each(rows)('$name → handshake ok: $ok', async ({ options, ok }) => {
    const port = Number(server.address.slice(server.address.lastIndexOf(':') + 1));
    const result = await probeTls(port, {
      ca: certs.caPem,
      servername: 'callguard',
      cert: readFileSync(envoyClient.certFile),
      key: readFileSync(envoyClient.keyFile),
      ...options,
    });
    expect(result.ok, JSON.stringify(result)).toBe(ok);
  });
});

describe('server.tls.clientCrl: a revoked client certificate gets no decision', () => {
  let pkiDir: string;
  let server: RunningServer;
  beforeAll(async () => {
    pkiDir = path.join(await mkdtemp(path.join(tmpdir(), 'callguard-crl-')), 'pki');
    createPki(pkiDir);
    issueLeaf(pkiDir, 'envoy-client-revoked', { days: 2, san: `URI:${ENVOY_SPIFFE_ID}` });
    revokeLeaf(pkiDir, 'envoy-client-revoked');
    const pki = (file: string) => path.join(pkiDir, file);
    const yaml = `
server:
  listen: "127.0.0.1:0"
  tls: { cert: ${pki('callguard.crt')}, key: ${pki('callguard.key')}, clientCa: ${pki('ca.crt')}, clientCrl: ${pki('ca.crl')} }
identity:
  issuers: [{ name: corp, issuer: https://idp.example.test, audiences: [callguard], algorithms: [ES256], jwksFile: jwks.json }]
functions:
  - { name: reports.run, allow: [{ issuer: corp, groups: [g] }] }
`;
    server = await startGrpcServer(parseConfig(yaml, FILE).server, () => new Uint8Array());
  });
  afterAll(async () => {
    await server.close(500);
    await rm(path.dirname(pkiDir), { recursive: true, force: true });
  });

  it.each([
    { name: "Envoy's certificate", cert: 'envoy-client', answered: true },
    { name: "Envoy's identity on a revoked certificate", cert: 'envoy-client-revoked', answered: false },
  ])('$name: answered $answered', async ({ cert, answered }) => {
    const pki = (file: string) => readFileSync(path.join(pkiDir, file));
    const client = createCheckClient(server.address, grpc.credentials.createSsl(pki('ca.crt'), pki(`${cert}.key`), pki(`${cert}.crt`)));
    const call = client.checkBytes(envoyCheckBytes());
    if (answered) await expect(call).resolves.toBeInstanceOf(Uint8Array);
    else await expect(call).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    client.close();
  });

  it('requires clientCa', () => {
    const problems = configProblems(config('').replace(/, clientCa: [^ ]+/, `, clientCrl: ${path.join(pkiDir, 'ca.crl')}`), FILE);
    expect(problems).toEqual([{ path: '/server/tls/clientCrl', message: 'requires clientCa' }]);
  });
});
