/**
 * Issue 10's scenarios: a single-use token claimed in Redis on loopback, and a DPoP-bound token with a fresh
 * proof per request. Each request may be accepted once, so the data file holds enough distinct ones, every
 * load starts from a clean slate (`beforeLoad`: Redis flushed, or new proofs written), and a load point that
 * sends more than the file holds fails the scenario instead of quietly measuring replays (denials are OK to
 * ghz too).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { type RedisServer, startRedisServer } from '../test/helpers/redis-server.js';
import { functionPath, writeBenchConfig } from './configs.js';
import type { Fixtures } from './fixtures.js';
import { type CheckRequestSpec, HOST, writeGhzData } from './requests.js';
import type { Scenario } from './scenarios.js';

/**
 * Distinct requests per data file: more than a 4 s point sends (at 2000/s, or at saturation: single-use
 * verifies a new token every call, ~3k/s at most here; a DPoP call with a cached key went past 10k in 4 s).
 */
const SINGLE_USE_REQUESTS = 20_000;
const DPOP_REQUESTS = 30_000;
const FUNCTIONS = 10;

/** The same request as every other scenario's (POST to the last of 10 functions, mTLS peer, valid body). */
function request(fixtures: Fixtures, sequence: number, token: string, more: Partial<CheckRequestSpec> = {}): CheckRequestSpec {
  return { path: functionPath(FUNCTIONS - 1), token, body: fixtures.validBody, peerCertificate: fixtures.peerCertificate, sequence, ...more };
}

/**
 * Every function single-use, claims in a real redis-server on loopback (Debian's; the scenario is skipped
 * when it cannot start). A single-use token is by nature new on every call, so the token cache (256) never
 * hits, as in `cache-miss`; the ratio to `cache-miss` is the price of the claim itself.
 */
export function singleUseRedisScenario(rates: readonly (number | null)[]): Scenario {
  return {
    id: 'single-use-redis',
    target: 'callguard',
    description: `single-use token, a new one every request (${SINGLE_USE_REQUESTS} tokens, token cache 256), claimed in Redis on loopback`,
    functions: FUNCTIONS,
    workers: 1,
    rates,
    prepare: async (fixtures) => {
      const redis: RedisServer = await startRedisServer();
      try {
        const config = writeBenchConfig(fixtures, 'single-use-redis', {
          functions: FUNCTIONS,
          tokenCacheSize: 256,
          decisionLog: '/dev/null',
          singleUse: true,
          replay: { redis: { url: redis.url } },
        });
        const tokens = await fixtures.mintTokens(SINGLE_USE_REQUESTS);
        const dataFile = join(fixtures.dir, 'single-use-redis.bin');
        writeGhzData(
          dataFile,
          tokens.map((token, sequence) => request(fixtures, sequence, token)),
        );
        return {
          config,
          dataFile,
          distinctRequests: SINGLE_USE_REQUESTS,
          beforeLoad: async () => {
            await redis.command('FLUSHDB');
          },
          dispose: () => redis.stop(),
        };
      } catch (error) {
        await redis.stop();
        throw error;
      }
    },
  };
}

/**
 * One DPoP-bound access token (`cnf.jkt`; verified once, then cached) with a new ES256 proof on every
 * request: the proof's signature, `htm`/`htu`/`ath`/`iat` checks and its `jti` claimed in the default
 * in-memory store. Proofs are re-signed before every load so `iat` stays inside `maxAgeSeconds`.
 */
export function dpopScenario(rates: readonly (number | null)[]): Scenario {
  return {
    id: 'dpop',
    target: 'callguard',
    description: `DPoP-bound token (cached) with a fresh ES256 proof every request (${DPOP_REQUESTS} proofs), jti in memory`,
    functions: FUNCTIONS,
    workers: 1,
    rates,
    prepare: async (fixtures) => {
      const config = writeBenchConfig(fixtures, 'dpop', { functions: FUNCTIONS, decisionLog: '/dev/null' });
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      const jwk = await exportJWK(publicKey);
      const [token = ''] = await fixtures.mintTokens(1, { cnf: { jkt: await calculateJwkThumbprint(jwk, 'sha256') } });
      const ath = createHash('sha256').update(token).digest('base64url');
      const path = functionPath(FUNCTIONS - 1);
      const dataFile = join(fixtures.dir, 'dpop.bin');
      let round = 0;
      const writeProofs = async (): Promise<void> => {
        round++;
        const iat = Math.floor(Date.now() / 1000);
        const specs: CheckRequestSpec[] = [];
        for (let sequence = 0; sequence < DPOP_REQUESTS; sequence++) {
          const proof = await new SignJWT({ jti: `dpop-${round}-${sequence}`, htm: 'POST', htu: `https://${HOST}${path}`, iat, ath })
            .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
            .sign(privateKey);
          specs.push(request(fixtures, sequence, token, { authorization: `DPoP ${token}`, extraHeaders: { dpop: proof } }));
        }
        writeGhzData(dataFile, specs);
      };
      await writeProofs();
      return { config, dataFile, distinctRequests: DPOP_REQUESTS, beforeLoad: writeProofs };
    },
  };
}
