import { readFileSync } from 'node:fs';
import { TLSSocket } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { ServerConfig } from '../config/types.js';
import { HEALTH_SERVICE, healthHandlers } from './health.js';

export const AUTHORIZATION_SERVICE_NAME = 'envoy.service.auth.v3.Authorization';

/** Bytes-in/bytes-out Check: protobuf decoding stays in src/envoy, grpc-js stays here. Never throws or rejects. */
export type CheckBytesHandler = (request: Uint8Array, caller: CallerFacts) => Uint8Array | Promise<Uint8Array>;

/** What the transport knows about who sent the CheckRequest (should be Envoy). */
export interface CallerFacts {
  /** Set when the gRPC client is not the pinned proxy: why (for the decision log). */
  readonly untrusted?: string;
}

const identity = (b: Buffer): Buffer => b;
const AUTHORIZATION_SERVICE: grpc.ServiceDefinition = {
  Check: {
    path: `/${AUTHORIZATION_SERVICE_NAME}/Check`,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

export interface RunningServer {
  /** `host:port` actually bound (port 0 resolved). */
  readonly address: string;
  /** Stops accepting calls, lets in-flight ones finish (up to `graceMs`), then forces. */
  close(graceMs?: number): Promise<void>;
}

export async function startGrpcServer(
  config: Pick<ServerConfig, 'listen' | 'tls'>,
  handleCheck: CheckBytesHandler,
  isHealthy: () => boolean = () => true,
): Promise<RunningServer> {
  let serving = true;
  const clientSans = new Set(config.tls?.clientSans ?? []);
  const judge = createCallerJudge(clientSans);
  const server = new grpc.Server({
    'grpc.max_receive_message_length': 4 * 1024 * 1024,
    'grpc.keepalive_permit_without_calls': 1,
  });
  server.addService(AUTHORIZATION_SERVICE, {
    Check(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
      const send = (bytes: Uint8Array): void => callback(null, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      // Unreachable by contract (the handler never throws or rejects); fail closed if it ever does.
      const fail = (): void => callback({ code: grpc.status.INTERNAL, details: 'internal error' });
      let answer: Uint8Array | Promise<Uint8Array>;
      try {
        answer = handleCheck(call.request, judge(call));
      } catch {
        fail();
        return;
      }
      if (answer instanceof Promise) answer.then(send, fail);
      else send(answer);
    },
  });
  server.addService(
    HEALTH_SERVICE,
    healthHandlers(new Set([AUTHORIZATION_SERVICE_NAME]), () => serving && isHealthy()),
  );

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(config.listen, credentials(config), (err, bound) => (err ? reject(err) : resolve(bound)));
  });
  const host = config.listen.slice(0, config.listen.lastIndexOf(':'));
  return {
    address: `${host}:${port}`,
    close: (graceMs = 5000) =>
      new Promise<void>((resolve) => {
        serving = false;
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}

function credentials(config: Pick<ServerConfig, 'tls'>): grpc.ServerCredentials {
  const tls = config.tls;
  if (tls === undefined) return grpc.ServerCredentials.createInsecure();
  const ca = tls.clientCa !== undefined ? readFileSync(tls.clientCa) : undefined;
  return new ProfileServerCredentials(
    // With a client CA, Envoy must present a certificate signed by it (mTLS on the Envoy→callguard hop):
    // requestCert with Node's default rejectUnauthorized: true.
    { requestCert: ca !== undefined, minVersion: tls.minVersion, ciphers: tls.ciphers.join(':'), honorCipherOrder: true },
    {
      cert: readFileSync(tls.cert),
      key: readFileSync(tls.key),
      ...(ca !== undefined ? { ca } : {}),
      ...(tls.clientCrl !== undefined ? { crl: readFileSync(tls.clientCrl) } : {}),
    },
  );
}

/**
 * grpc-js's createSsl takes no TLS version or cipher list (Node's defaults then apply: CBC suites too);
 * a ServerCredentials built from options does: grpc-js passes both objects to http2.createSecureServer.
 */
class ProfileServerCredentials extends grpc.ServerCredentials {
  _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

const TRUSTED: CallerFacts = Object.freeze({});

/**
 * With `server.tls.clientSans`, the gRPC client certificate (already verified against `clientCa`)
 * must carry one of those SANs: a workload certificate from the same CA must not be able to ask
 * callguard for decisions or write decision-log lines in a caller's name.
 *
 * Judged once per TLS connection, not per call: reading the peer certificate costs ~19 µs a call
 * (Node builds it anew with three fingerprints), as much as deciding. A connection keeps the
 * certificate it was judged on (TLS 1.2 renegotiation could swap it, but only for a client that
 * already proved it holds a pinned certificate, or from untrusted to a cached denial). When
 * grpc-js does not expose the connection, every call is judged.
 */
function createCallerJudge(clientSans: ReadonlySet<string>): (call: grpc.ServerUnaryCall<Buffer, Buffer>) => CallerFacts {
  const byConnection = new WeakMap<object, CallerFacts>();
  return (call) => {
    if (clientSans.size === 0) return TRUSTED;
    const connection = tlsSocketOf(call);
    const known = connection === undefined ? undefined : byConnection.get(connection);
    if (known !== undefined) return known;
    const facts = judgeCertificate(call, clientSans);
    if (connection !== undefined) byConnection.set(connection, facts);
    return facts;
  };
}

function judgeCertificate(call: grpc.ServerUnaryCall<Buffer, Buffer>, clientSans: ReadonlySet<string>): CallerFacts {
  const certificate = call.getAuthContext().sslPeerCertificate;
  const sans = (certificate?.subjectaltname ?? '').split(', ').map((entry) => entry.replace(/^(DNS|URI):/, ''));
  if (sans.some((san) => clientSans.has(san))) return TRUSTED;
  return { untrusted: certificate ? 'client certificate carries none of server.tls.clientSans' : 'no client certificate' };
}

/** The call's TLS socket, through grpc-js internals (1.14: call › [nextCall…] › stream.session.socket). */
function tlsSocketOf(call: grpc.ServerUnaryCall<Buffer, Buffer>): TLSSocket | undefined {
  let layer = (call as unknown as { call?: InternalCall }).call;
  for (let depth = 0; depth < 8 && layer !== undefined; depth++) {
    const socket = layer.stream?.session?.socket;
    if (socket !== undefined) return socket instanceof TLSSocket ? socket : undefined;
    layer = layer.nextCall;
  }
  return undefined;
}

interface InternalCall {
  readonly nextCall?: InternalCall;
  readonly stream?: { readonly session?: { readonly socket?: unknown } };
}
