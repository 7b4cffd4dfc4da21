/**
 * Envoy-shaped CheckRequests for the load generator: what Envoy's ext_authz filter sends for a POST over
 * HTTPS with a verified client certificate, `with_request_body` and `include_peer_certificate` on.
 * Written as count-delimited binary messages, the format `ghz --binary-file` round-robins over.
 */
import { writeFileSync } from 'node:fs';
import { create, toBinary } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import { type CheckRequest, CheckRequestSchema } from '../src/gen/envoy/service/auth/v3/external_auth_pb.js';
import { GATEWAY_PRINCIPAL, PEER_SPIFFE_ID } from './fixtures.js';

export interface CheckRequestSpec {
  readonly path: string;
  readonly token: string;
  /** The whole Authorization value (an API key, a SAML assertion); default `Bearer <token>`. */
  readonly authorization?: string;
  /** More request headers (a DPoP proof). */
  readonly extraHeaders?: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
  /** Default `application/json`. */
  readonly contentType?: string;
  readonly peerCertificate: string;
  /** Distinguishes requests (x-request-id); Envoy generates a UUID per request. */
  readonly sequence: number;
}

/** The `:authority` of every bench request (a DPoP proof's `htu` names it). */
export const HOST = 'functions.example.org';

function socketAddress(address: string, port: number) {
  return {
    address: { case: 'socketAddress' as const, value: { address, portSpecifier: { case: 'portValue' as const, value: port } } },
  };
}

function requestId(sequence: number): string {
  const hex = sequence.toString(16).padStart(12, '0');
  return `6f1c2a9e-4b3d-4c7a-9e21-${hex.slice(-12)}`;
}

/** One CheckRequest as Envoy 1.3x builds it for `POST <path>` from an mTLS caller with a bearer token. */
export function buildCheckRequest(spec: CheckRequestSpec): CheckRequest {
  const id = requestId(spec.sequence);
  const headers: Record<string, string> = {
    ':authority': HOST,
    ':method': 'POST',
    ':path': spec.path,
    ':scheme': 'https',
    accept: 'application/json',
    'accept-encoding': 'gzip, deflate, br',
    authorization: spec.authorization ?? `Bearer ${spec.token}`,
    'content-length': String(spec.body.length),
    'content-type': spec.contentType ?? 'application/json',
    traceparent: `00-4bf92f3577b34da6a3ce929d0e0e4736-${id.slice(-16)}-01`,
    'user-agent': 'orders-service/2.14.1 (node 20; undici)',
    'x-envoy-auth-partial-body': 'false',
    'x-envoy-expected-rq-timeout-ms': '15000',
    'x-forwarded-for': '10.20.30.40',
    'x-forwarded-proto': 'https',
    'x-request-id': id,
    ...spec.extraHeaders,
  };
  return create(CheckRequestSchema, {
    attributes: {
      source: {
        address: socketAddress('10.20.30.40', 51234 + (spec.sequence % 1000)),
        principal: PEER_SPIFFE_ID,
        certificate: spec.peerCertificate,
      },
      destination: { address: socketAddress('10.0.0.5', 8443), principal: GATEWAY_PRINCIPAL },
      request: {
        time: timestampNow(),
        http: {
          id: String(1_000_000_000 + spec.sequence),
          method: 'POST',
          headers,
          path: spec.path,
          host: HOST,
          scheme: 'https',
          size: BigInt(spec.body.length),
          protocol: 'HTTP/2',
          rawBody: spec.body,
        },
      },
      tlsSession: { sni: HOST },
    },
  });
}

/** Appends `value` as a protobuf base-128 varint. */
function pushVarint(out: number[], value: number): void {
  let rest = value;
  while (rest > 0x7f) {
    out.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
}

/** Encodes requests as varint-length-prefixed messages (golang/protobuf `DecodeMessage` framing). */
export function encodeCountDelimited(requests: readonly CheckRequest[]): Buffer {
  const parts: Buffer[] = [];
  for (const request of requests) {
    const bytes = toBinary(CheckRequestSchema, request);
    const prefix: number[] = [];
    pushVarint(prefix, bytes.length);
    parts.push(Buffer.from(prefix), Buffer.from(bytes));
  }
  return Buffer.concat(parts);
}

/** Writes a ghz `--binary-file`: ghz sends message `i mod count` as request number `i`. */
export function writeGhzData(file: string, specs: readonly CheckRequestSpec[]): number {
  const data = encodeCountDelimited(specs.map(buildCheckRequest));
  writeFileSync(file, data);
  return data.length;
}
