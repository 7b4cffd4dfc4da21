import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCallguard } from '../../src/build-callguard.js';
import { parseConfig } from '../../src/config/load-config.js';
import { startGrpcServer } from '../../src/server/grpc-server.js';
import { CHARGE_SCHEMA, type Fixture, fixtureConfigYaml, ORDERS_SCHEMA } from './callguard-fixture.js';
import { createCheckClient } from './envoy-check.js';
import type { IdentityEvent } from './jwt-events.js';
import { createMemoryDestination } from './memory-destination.js';

/**
 * The integration fixture (callguard-fixture.ts: same functions, `orders.approve` single-use) with its
 * replay store in Redis: one callguard "replica" on the real gRPC server. Start several against one
 * Redis to share replay protection.
 */
export async function startRedisFixture(options: {
  jwksUrl: string;
  issuer: string;
  redisUrl: string;
  now?: () => number;
  onEvent?: (event: IdentityEvent) => void;
}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'callguard-it-redis-'));
  writeFileSync(join(dir, 'orders.json'), JSON.stringify(ORDERS_SCHEMA));
  writeFileSync(join(dir, 'charge.json'), JSON.stringify(CHARGE_SCHEMA));
  // Not the default 20 ms bound: these tests are about sharing and failing closed, and on a loaded 2-core CI
  // machine a loopback round trip can take longer (a claim then answers 503, and exact counts flake); the
  // bound itself is tested in redis-replay-store.test.ts.
  const yaml = `${fixtureConfigYaml(options.jwksUrl, options.issuer)}replay:\n  redis: { url: "${options.redisUrl}", timeoutMs: 500 }\n`;
  const config = parseConfig(yaml, join(dir, 'callguard.yaml'));
  const log = createMemoryDestination();
  const callguard = await buildCallguard(config, {
    decisionLog: log.stream,
    ...(options.now ? { now: options.now } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });
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
