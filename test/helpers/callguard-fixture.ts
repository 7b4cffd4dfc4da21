import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { parse, stringify } from 'yaml';
import { buildCallguard, type Callguard } from '../../src/build-callguard.js';
import { parseConfig } from '../../src/config/load-config.js';
import { type RunningServer, startGrpcServer } from '../../src/server/grpc-server.js';
import { createCheckClient } from './envoy-check.js';
import { createTestIssuer, type TestIssuer } from './jwt-issuer.js';
import { createMemoryDestination } from './memory-destination.js';

export const ORDERS_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  additionalProperties: false,
  required: ['orderId', 'quantity', 'card'],
  properties: {
    orderId: { type: 'string', pattern: '^ord-[0-9]+$' },
    quantity: { type: 'integer', minimum: 1, maximum: 100 },
    note: { type: 'string', maxLength: 1000 },
    card: {
      type: 'object',
      additionalProperties: false,
      required: ['number'],
      properties: { number: { type: 'string', pattern: '^[0-9]{12,19}$' }, holder: { type: 'string' } },
    },
    items: { type: 'array', maxItems: 50, items: { type: 'object', properties: { sku: { type: 'string' }, qty: { type: 'integer' } } } },
  },
};

export const CHARGE_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  additionalProperties: false,
  required: ['amount'],
  properties: { amount: { type: 'integer', minimum: 1 } },
};

/** The config used by integration tests: one issuer (local JWKS server), SPIFFE peers, five functions (one single-use). */
export function fixtureConfigYaml(jwksUrl: string, issuer: string): string {
  return `
server: { listen: "127.0.0.1:0" }
identity:
  clockSkewSeconds: 5
  issuers:
    - name: corp
      issuer: ${issuer}
      audiences: [callguard]
      algorithms: [RS256, ES256]
      jwksUrl: ${jwksUrl}
      fetch: { timeoutMs: 2000, refreshSeconds: 300, unknownKidCooldownSeconds: 30, maxStaleSeconds: 3600 }
  spiffe: { trustDomains: [example.org] }
functions:
  - name: orders.create
    match: { method: POST, path: /orders }
    allow: [{ issuer: corp, groups: [orders-writers] }]
    input: { schema: orders.json, sensitive: [/card/number], logFields: [/orderId, /quantity, /card/number] }
  - name: orders.get
    match: { method: GET, path: "/orders/{id}", logParams: [id] }
    allow: [{ issuer: corp, groups: [orders-readers, orders-writers] }]
  - name: billing.charge
    match: { method: POST, path: /billing/charge }
    requireMtls: true
    allow: [{ spiffeIds: [spiffe://example.org/ns/default/sa/billing] }]
    input: { schema: charge.json }
  - name: reports.run
    allow: [{ issuer: corp, subjects: [svc-reports] }]
  - name: orders.approve
    match: { method: POST, path: "/orders/{id}/approve" }
    singleUse: true
    allow: [{ issuer: corp, groups: [orders-writers] }, { spiffeIds: [spiffe://example.org/ns/default/sa/billing] }]
    input: { schema: charge.json }
`;
}

export interface Fixture {
  readonly callguard: Callguard;
  readonly server: RunningServer;
  readonly client: ReturnType<typeof createCheckClient>;
  readonly log: ReturnType<typeof createMemoryDestination>;
  close(): Promise<void>;
}

/**
 * Starts the real gRPC server on a free port with the fixture config (changed by `customize`, given the
 * parsed YAML) and an in-memory decision log.
 */
export async function startFixture(
  jwksUrl: string,
  issuer: string,
  now?: () => number,
  customize?: (config: Record<string, unknown>) => void,
): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'callguard-it-'));
  writeFileSync(join(dir, 'orders.json'), JSON.stringify(ORDERS_SCHEMA));
  writeFileSync(join(dir, 'charge.json'), JSON.stringify(CHARGE_SCHEMA));
  let yaml = fixtureConfigYaml(jwksUrl, issuer);
  if (customize !== undefined) {
    const parsed = parse(yaml) as Record<string, unknown>;
    customize(parsed);
    yaml = stringify(parsed);
  }
  const config = parseConfig(yaml, join(dir, 'callguard.yaml'));
  const log = createMemoryDestination();
  const callguard = await buildCallguard(config, { decisionLog: log.stream, ...(now ? { now } : {}) });
  const server = await startGrpcServer(config.server, callguard.handleCheck);
  const client = createCheckClient(server.address);
  return {
    callguard,
    server,
    client,
    log,
    async close() {
      client.close();
      await server.close(1000);
      await callguard.close();
    },
  };
}

/**
 * Registers beforeAll/afterAll for a suite: a local test issuer (JWKS on port 0) and the fixture
 * server against it. Read `issuer` and `fx` inside tests (they exist once beforeAll ran).
 */
export function useCallguardFixture(): { readonly issuer: TestIssuer; readonly fx: Fixture } {
  const state: { issuer?: TestIssuer; fx?: Fixture } = {};
  beforeAll(async () => {
    state.issuer = await createTestIssuer();
    state.fx = await startFixture(state.issuer.jwksUrl, state.issuer.url);
  });
  afterAll(async () => {
    await state.fx?.close();
    await state.issuer?.close();
  });
  return {
    get issuer() {
      if (state.issuer === undefined) throw new TypeError('useCallguardFixture: read issuer inside a test');
      return state.issuer;
    },
    get fx() {
      if (state.fx === undefined) throw new TypeError('useCallguardFixture: read fx inside a test');
      return state.fx;
    },
  };
}
