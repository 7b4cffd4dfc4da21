import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { CheckRequestSchema, type CheckResponse, CheckResponseSchema } from '../../src/gen/envoy/service/auth/v3/external_auth_pb.js';

export interface EnvoyShape {
  method?: string;
  path?: string;
  host?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Envoy's own certificate principal: present iff the downstream connection is TLS. */
  tls?: boolean;
  partial?: boolean;
  peer?: { principal: string; pem?: string };
  contextExtensions?: Record<string, string>;
  /** More header lines after `headers`, in order: a name already there is a repeated header. */
  headerLines?: readonly (readonly [string, string | Uint8Array])[];
  /** ext_authz `encode_raw_headers: true`: every line goes to `header_map` as raw bytes, `headers` stays empty. */
  encodeRawHeaders?: boolean;
  /** ext_authz `allowed_headers` as exact names: Envoy forwards only these lines, pseudo-headers included. */
  allowedHeaders?: readonly string[];
}

const PARTIAL_BODY = 'x-envoy-auth-partial-body';

/**
 * A CheckRequest shaped like Envoy 1.40 sends it (pack_as_bytes, include_peer_certificate), following
 * check_request_utils.cc setHttpRequest: header lines filtered by `allowedHeaders`, then either joined
 * into `headers` (a repeated name's values appended with ',') or listed in `header_map`; the partial-body
 * flag added after the filter (a caller's copy dropped).
 */
export function envoyCheckRequest(shape: EnvoyShape = {}) {
  const defaults: Record<string, string> = {
    ':authority': shape.host ?? 'functions.internal',
    ':method': shape.method ?? 'POST',
    ':path': shape.path ?? '/orders',
    ':scheme': 'https',
    'x-request-id': 'req-1',
    'x-forwarded-proto': 'https',
    ...shape.headers,
  };
  const allowed = shape.allowedHeaders === undefined ? undefined : new Set(shape.allowedHeaders);
  const lines = [...Object.entries(defaults), ...(shape.headerLines ?? [])].filter(
    ([name]) => name !== PARTIAL_BODY && (allowed === undefined || allowed.has(name)),
  );
  const body = typeof shape.body === 'string' ? new TextEncoder().encode(shape.body) : shape.body;
  if (body !== undefined) lines.push([PARTIAL_BODY, shape.partial ? 'true' : 'false']);
  const headers = new Map<string, string>();
  if (!shape.encodeRawHeaders) {
    for (const [name, value] of lines) {
      if (typeof value !== 'string') throw new TypeError('raw header bytes need encodeRawHeaders (Envoy would sanitize them)');
      const before = headers.get(name);
      headers.set(name, before === undefined ? value : `${before},${value}`);
    }
  }
  const headerMap = shape.encodeRawHeaders
    ? { headerMap: { headers: lines.map(([key, value]) => ({ key, rawValue: typeof value === 'string' ? new TextEncoder().encode(value) : value })) } }
    : {};
  return create(CheckRequestSchema, {
    attributes: {
      source: {
        address: { address: { case: 'socketAddress', value: { address: '10.0.0.7', portSpecifier: { case: 'portValue', value: 51234 } } } },
        principal: shape.peer?.principal ?? '',
        certificate: shape.peer?.pem !== undefined ? encodeURIComponent(shape.peer.pem) : '',
      },
      destination: {
        address: { address: { case: 'socketAddress', value: { address: '10.0.0.1', portSpecifier: { case: 'portValue', value: 8443 } } } },
        principal: shape.tls === false ? '' : 'envoy.functions.internal',
      },
      request: {
        http: {
          id: '1234',
          method: shape.method ?? 'POST',
          path: shape.path ?? '/orders',
          host: shape.host ?? 'functions.internal',
          scheme: 'https',
          protocol: 'HTTP/2',
          // fromEntries: "__proto__" stays an own key, as in a protobuf map.
          headers: Object.fromEntries(headers),
          ...headerMap,
          ...(body !== undefined ? { rawBody: body } : {}),
        },
      },
      contextExtensions: shape.contextExtensions ?? {},
      ...(shape.tls === false ? {} : { tlsSession: { sni: 'functions.internal' } }),
    },
  });
}

export function envoyCheckBytes(shape: EnvoyShape = {}): Uint8Array {
  return toBinary(CheckRequestSchema, envoyCheckRequest(shape));
}

export function decodeCheckResponse(bytes: Uint8Array): CheckResponse {
  return fromBinary(CheckResponseSchema, bytes);
}

/** A raw grpc-js client for Authorization/Check (test-only; the service itself never imports this). */
export function createCheckClient(address: string, credentials = grpc.credentials.createInsecure()) {
  const client = new grpc.Client(address, credentials);
  return {
    checkBytes(request: Uint8Array): Promise<Uint8Array> {
      return new Promise((resolve, reject) => {
        client.makeUnaryRequest(
          '/envoy.service.auth.v3.Authorization/Check',
          (b: Uint8Array) => Buffer.from(b),
          (b: Buffer) => new Uint8Array(b),
          request,
          (err, value) => (err || value === undefined ? reject(err ?? new Error('no response')) : resolve(value)),
        );
      });
    },
    async check(shape: EnvoyShape): Promise<CheckResponse> {
      return decodeCheckResponse(await this.checkBytes(envoyCheckBytes(shape)));
    },
    close: () => client.close(),
  };
}

/** Flattens a CheckResponse into what a test asserts: status, headers, problem body. */
export function summarize(response: CheckResponse) {
  const r = response.httpResponse;
  if (r.case === 'okResponse') {
    const headers = Object.fromEntries(r.value.headers.map((h) => [h.header?.key ?? '', h.header?.value ?? '']));
    return { allow: true as const, grpc: response.status?.code, headers, remove: r.value.headersToRemove };
  }
  if (r.case === 'deniedResponse') {
    const headers = Object.fromEntries(r.value.headers.map((h) => [h.header?.key ?? '', h.header?.value ?? '']));
    const problem = JSON.parse(r.value.body) as Record<string, unknown> & { code: string };
    return { allow: false as const, grpc: response.status?.code, status: r.value.status?.code, headers, problem };
  }
  throw new Error('CheckResponse without http_response');
}

/** grpc.health.v1.Health/Check for the whole server: 'SERVING' or 'NOT_SERVING'. */
export function checkHealth(address: string): Promise<'SERVING' | 'NOT_SERVING'> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.alloc(0),
      (err, value) => {
        client.close();
        if (err || value === undefined) reject(err ?? new Error('no response'));
        else resolve(value[1] === 1 ? 'SERVING' : 'NOT_SERVING');
      },
    );
  });
}
