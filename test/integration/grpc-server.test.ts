import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RunningServer, startGrpcServer } from '../../src/server/grpc-server.js';
import { createCheckClient, decodeCheckResponse, envoyCheckBytes, summarize } from '../helpers/envoy-check.js';
import { SERVER_TLS_DEFAULTS } from '../helpers/server-tls-defaults.js';
import { createTestCerts } from '../helpers/test-certs.js';

const certs = createTestCerts();
let server: RunningServer;
let envoyClient: { certFile: string; keyFile: string };

// A canned handler: this suite tests the transport, not decisions.
const echo = async (bytes: Uint8Array) => {
  const { toBinary, create } = await import('@bufbuild/protobuf');
  const { CheckResponseSchema } = await import('../../src/gen/envoy/service/auth/v3/external_auth_pb.js');
  void bytes;
  return toBinary(
    CheckResponseSchema,
    create(CheckResponseSchema, {
      status: { code: 7 },
      httpResponse: { case: 'deniedResponse', value: { status: { code: 403 }, body: '{"code":"ERR_NOT_PERMITTED"}' } },
    }),
  );
};

beforeAll(async () => {
  const serverCert = certs.leaf('callguard', 'DNS:callguard,IP:127.0.0.1');
  envoyClient = certs.leaf('envoy-client', 'DNS:envoy');
  server = await startGrpcServer(
    {
      listen: '127.0.0.1:0',
      tls: { cert: serverCert.certFile, key: serverCert.keyFile, clientCa: `${certs.dir}/ca.pem`, clientSans: [], ...SERVER_TLS_DEFAULTS },
    },
    echo,
  );
});
afterAll(async () => {
  await server.close(500);
  certs.cleanup();
});

const ca = () => Buffer.from(certs.caPem);

describe('gRPC server over mTLS', () => {
  it('answers a client presenting a certificate from the client CA', async () => {
    const { readFileSync } = await import('node:fs');
    const creds = grpc.credentials.createSsl(ca(), readFileSync(envoyClient.keyFile), readFileSync(envoyClient.certFile));
    const client = createCheckClient(server.address, creds);
    const s = summarize(decodeCheckResponse(await client.checkBytes(envoyCheckBytes())));
    expect(s.allow).toBe(false);
    client.close();
  });

  it('refuses a client without a certificate', async () => {
    const client = createCheckClient(server.address, grpc.credentials.createSsl(ca()));
    await expect(client.checkBytes(envoyCheckBytes())).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    client.close();
  });

  it('refuses plaintext', async () => {
    const client = createCheckClient(server.address);
    await expect(client.checkBytes(envoyCheckBytes())).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    client.close();
  });
});

describe('grpc.health.v1.Health/Check', () => {
  it.each([
    { name: 'overall', request: Buffer.alloc(0), status: 1 },
    { name: 'authorization service', request: Buffer.concat([Buffer.from([0x0a, 35]), Buffer.from('envoy.service.auth.v3.Authorization')]), status: 1 },
    { name: 'unknown service', request: Buffer.concat([Buffer.from([0x0a, 3]), Buffer.from('nop')]), status: grpc.status.NOT_FOUND },
  ])('$name', async ({ request, status }) => {
    const { readFileSync } = await import('node:fs');
    const client = new grpc.Client(server.address, grpc.credentials.createSsl(ca(), readFileSync(envoyClient.keyFile), readFileSync(envoyClient.certFile)));
    const result = await new Promise<{ ok: Buffer } | { err: grpc.ServiceError }>((resolve) =>
      client.makeUnaryRequest(
        '/grpc.health.v1.Health/Check',
        (b: Buffer) => b,
        (b: Buffer) => b,
        request,
        (err, value) => resolve(err ? { err } : { ok: value as Buffer }),
      ),
    );
    client.close();
    if ('ok' in result) expect([...result.ok]).toEqual([0x08, status]);
    else expect(result.err.code).toBe(status);
  });
});

describe('server.tls.clientSans pins the proxy', () => {
  let pinned: RunningServer;
  const seen: ({ untrusted?: string } | undefined)[] = [];
  let workload: { certFile: string; keyFile: string };
  beforeAll(async () => {
    const serverCert = certs.leaf('callguard-pinned', 'DNS:callguard,IP:127.0.0.1');
    workload = certs.leaf('workload', 'URI:spiffe://example.org/ns/default/sa/billing');
    pinned = await startGrpcServer(
      {
        listen: '127.0.0.1:0',
        tls: { cert: serverCert.certFile, key: serverCert.keyFile, clientCa: `${certs.dir}/ca.pem`, clientSans: ['envoy'], ...SERVER_TLS_DEFAULTS },
      },
      async (bytes, caller) => {
        seen.push(caller);
        return echo(bytes);
      },
    );
  });
  afterAll(() => pinned.close(500));

  it.each([
    { name: 'the proxy certificate', who: 'envoy', untrusted: undefined },
    { name: 'a workload certificate from the same CA', who: 'workload', untrusted: 'client certificate carries none of server.tls.clientSans' },
  ])('$name', async ({ who, untrusted }) => {
    const { readFileSync } = await import('node:fs');
    const cert = who === 'envoy' ? envoyClient : workload;
    const client = createCheckClient(pinned.address, grpc.credentials.createSsl(ca(), readFileSync(cert.keyFile), readFileSync(cert.certFile)));
    await client.checkBytes(envoyCheckBytes());
    client.close();
    expect(seen.at(-1)?.untrusted).toBe(untrusted);
  });

  it('judges each connection once, not each call (reading the certificate costs ~19 µs)', async () => {
    const { readFileSync } = await import('node:fs');
    const { TLSSocket } = await import('node:tls');
    const spy = vi.spyOn(TLSSocket.prototype, 'getPeerCertificate');
    try {
      for (const cert of [envoyClient, workload]) {
        const client = createCheckClient(pinned.address, grpc.credentials.createSsl(ca(), readFileSync(cert.keyFile), readFileSync(cert.certFile)));
        await client.checkBytes(envoyCheckBytes()); // connects: certificates are read here (client and server side)
        const afterFirst = spy.mock.calls.length;
        for (let i = 0; i < 4; i++) await client.checkBytes(envoyCheckBytes());
        client.close();
        expect(spy.mock.calls.length - afterFirst).toBe(0);
        expect(seen.slice(-5).map((c) => c?.untrusted)).toEqual(
          Array(5).fill(cert === envoyClient ? undefined : 'client certificate carries none of server.tls.clientSans'),
        );
      }
    } finally {
      spy.mockRestore();
    }
  });
});
