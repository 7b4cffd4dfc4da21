/**
 * The benchmark matrix (issue 4, items 2, 3, 5 and 8): which server, which configuration, which requests,
 * which load points. Each scenario is measured against the same request stream as its baseline.
 */
import { join } from 'node:path';
import { functionPath, MCP_TOOL, writeBenchConfig } from './configs.js';
import { type Fixtures, GROUP } from './fixtures.js';
import { grpcOrder } from './grpc-order.js';
import { dpopScenario, singleUseRedisScenario } from './replay-scenarios.js';
import { type CheckRequestSpec, writeGhzData } from './requests.js';

/** `go-floor`: a no-op grpc-go server that does not even decode, the floor of this machine and of ghz. */
export type Target = 'baseline' | 'callguard' | 'go-floor';

export interface Scenario {
  readonly id: string;
  readonly target: Target;
  readonly description: string;
  readonly functions: number;
  /** Server processes (cluster workers); 1 = a single process, pinned to one core when pinning is on. */
  readonly workers: number;
  /** Fixed request rates; `null` = saturation. */
  readonly rates: readonly (number | null)[];
  /** HTTP status the probe must see; undefined = the call must be allowed. */
  readonly expectHttp?: number;
  /** Builds the config (callguard only) and the ghz data file; returns their paths. */
  prepare(fixtures: Fixtures): Promise<Prepared>;
}

export interface Prepared {
  readonly config?: string;
  readonly dataFile: string;
  /**
   * Requests in the data file when each may be accepted only once (single-use tokens, DPoP proofs): a load
   * that sends more would measure replays (denials, which ghz counts as OK), so it fails the scenario.
   */
  readonly distinctRequests?: number;
  /** Before the warm-up, every load point and the probe after the load: a clean slate (Redis flushed, new proofs). */
  readonly beforeLoad?: () => Promise<void>;
  /** Once the scenario is over (stops a Redis it started). */
  readonly dispose?: () => Promise<void>;
}

export interface MatrixOptions {
  readonly quick: boolean;
  readonly workers: number;
  readonly rates: readonly number[];
  /** Add the `go-floor` scenario (bench/.tools/bin/go-noop was built). */
  readonly goFloor: boolean;
}

const CACHE_MISS_TOKENS = 4096;
const CACHE_MISS_CACHE = 256;

async function dataFile(fixtures: Fixtures, name: string, specs: (tokens: string[]) => CheckRequestSpec[], tokens: number): Promise<string> {
  const file = join(fixtures.dir, `${name}.bin`);
  writeGhzData(file, specs(await fixtures.mintTokens(tokens)));
  return file;
}

/** 64 requests to function `functions - 1` that differ only in request id (and token, when several). */
function requestsTo(fixtures: Fixtures, functions: number, body: Uint8Array, count = 64, authorization?: string, contentType?: string) {
  return (tokens: string[]): CheckRequestSpec[] =>
    Array.from({ length: Math.max(count, tokens.length) }, (_, sequence) => ({
      path: functionPath(functions - 1),
      token: tokens[sequence % tokens.length] ?? '',
      ...(authorization === undefined ? {} : { authorization }),
      ...(contentType === undefined ? {} : { contentType }),
      body,
      peerCertificate: fixtures.peerCertificate,
      sequence,
    }));
}

function callguardScenario(
  id: string,
  description: string,
  functions: number,
  rates: readonly (number | null)[],
  options: {
    tokens?: number;
    cacheSize?: number;
    violating?: boolean;
    logFile?: boolean;
    workers?: number;
    durability?: 'written' | 'fsync' | 'buffered';
    /** Another credential kind instead of the bearer token. */
    credential?: 'apiKey' | 'saml';
    /** `false`: no admin listener, so no metrics (issue 11). */
    admin?: boolean;
    /** The same call as an MCP `tools/call` whose `arguments` are the body (issue 12). */
    mcp?: boolean;
    /** The same order as a gRPC call (bench/order.proto) to gRPC functions (issue 12). */
    grpc?: boolean;
  },
): Scenario {
  return {
    id,
    target: 'callguard',
    description,
    functions,
    workers: options.workers ?? 1,
    rates,
    ...(options.violating === true ? { expectHttp: 400 } : {}),
    prepare: async (fixtures) => {
      const grpc = options.grpc === true ? grpcOrder(fixtures) : undefined;
      const config = writeBenchConfig(fixtures, id, {
        functions,
        ...(options.cacheSize === undefined ? {} : { tokenCacheSize: options.cacheSize }),
        decisionLog: options.logFile === true ? join(fixtures.dir, `${id}.decisions.log`) : '/dev/null',
        ...(options.durability === undefined ? {} : { durability: options.durability }),
        ...(options.credential === undefined ? {} : { credential: credentialSection(fixtures, options.credential) }),
        ...(options.admin === undefined ? {} : { admin: options.admin }),
        ...(grpc === undefined ? {} : { grpc }),
        ...(options.mcp === true ? { mcp: true } : {}),
      });
      const plain = options.violating === true ? fixtures.violatingBody : fixtures.validBody;
      const body = grpc?.body ?? (options.mcp === true ? toolCall(plain) : plain);
      const authorization =
        options.credential === 'apiKey' ? `ApiKey ${fixtures.apiKey.key}` : options.credential === 'saml' ? `SAML ${fixtures.saml.credential}` : undefined;
      const requests = requestsTo(fixtures, functions, body, 64, authorization, grpc === undefined ? undefined : 'application/grpc');
      return { config, dataFile: await dataFile(fixtures, id, requests, options.tokens ?? 1) };
    },
  };
}

/** `arguments` wrapped in a JSON-RPC `tools/call` of the MCP bench tool: the JSON body plus its envelope. */
function toolCall(args: Uint8Array): Uint8Array {
  const envelope = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"${MCP_TOOL}","arguments":`;
  return new TextEncoder().encode(`${envelope}${new TextDecoder().decode(args)}}}`);
}

/** The identity section and rule for an API key or SAML scenario (issue 9). */
function credentialSection(fixtures: Fixtures, kind: 'apiKey' | 'saml') {
  if (kind === 'apiKey') return { identity: { apiKeys: { file: fixtures.apiKey.file } }, rule: { issuer: 'apiKeys', groups: [GROUP] } };
  return {
    identity: { saml: [{ name: 'bench-saml', metadataFile: fixtures.saml.metadataFile, audiences: [fixtures.saml.audience], groupsAttribute: 'groups' }] },
    rule: { issuer: 'bench-saml', groups: [GROUP] },
  };
}

/** The scenarios in run order; `--quick` keeps baseline and the cached-token case at two fixed rates. */
export function buildMatrix(options: MatrixOptions): Scenario[] {
  const sweep: (number | null)[] = [null, ...options.rates];
  const pair: (number | null)[] = [null, 2000];
  const baseline: Scenario = {
    id: 'baseline',
    target: 'baseline',
    description: 'no-op grpc-js Check server (decode + OK)',
    functions: 0,
    workers: 1,
    rates: sweep,
    prepare: async (fixtures) => ({ dataFile: await dataFile(fixtures, 'baseline', requestsTo(fixtures, 10, fixtures.validBody), 1) }),
  };
  const cached = callguardScenario('cached', 'cached token, 10 functions, allow', 10, sweep, {});
  const goFloor: Scenario[] = options.goFloor
    ? [{ ...baseline, id: 'go-floor', target: 'go-floor', description: 'no-op grpc-go Check server (no decode): the floor of machine and load generator' }]
    : [];
  if (options.quick) return [baseline, cached];
  const clustered = (scenario: Scenario): Scenario => ({
    ...scenario,
    id: `${scenario.id}-cluster`,
    description: `${scenario.description}, ${options.workers} cluster workers`,
    workers: options.workers,
    rates: [null],
  });
  return [
    baseline,
    cached,
    ...goFloor,
    callguardScenario('cache-miss', `new token every request (${CACHE_MISS_TOKENS} tokens, token cache ${CACHE_MISS_CACHE})`, 10, pair, {
      tokens: CACHE_MISS_TOKENS,
      cacheSize: CACHE_MISS_CACHE,
    }),
    // Issue 9: the same call with an API key, and with a SAML assertion (verified once, then cached like a token).
    callguardScenario('api-key', 'API key instead of the token, 10 functions, allow', 10, pair, { credential: 'apiKey' }),
    callguardScenario('saml', 'SAML assertion instead of the token, 10 functions, allow', 10, pair, { credential: 'saml' }),
    // Issue 10: a single-use token claimed in Redis, and a DPoP proof per request, against `cached` and `cache-miss`.
    singleUseRedisScenario(pair),
    dpopScenario(pair),
    // Issue 11: the cached call without the admin listener; cached ÷ no-admin is what metrics cost.
    callguardScenario('no-admin', 'cached token, 10 functions, allow, admin.enabled false (no metrics)', 10, pair, { admin: false }),
    // Issue 12: the same order as a gRPC call (protobuf, decoded with a descriptor set), against `cached` (JSON).
    callguardScenario('grpc-payload', 'cached token, 10 gRPC functions, the order as a protobuf message, allow', 10, pair, { grpc: true }),
    // Issue 12: the cached call as an MCP tools/call (JSON-RPC checks, tool selection, tool rules, the same schema on `arguments`).
    callguardScenario('mcp-tool-call', 'cached token, 10 MCP endpoints, tools/call with the same arguments, allow', 10, pair, { mcp: true }),
    callguardScenario('schema-violation', 'cached token, body violates the schema, deny 400', 10, pair, { violating: true }),
    callguardScenario('functions-100', 'cached token, 100 functions', 100, pair, {}),
    callguardScenario('functions-1000', 'cached token, 1000 functions (memory measured here)', 1000, pair, {}),
    // Issue 8: each durability mode, to a file, in the same run (`written` is the default and what every other scenario uses).
    callguardScenario('log-buffered', 'cached token, decision log to a file, durability buffered (answered before the line is written)', 10, pair, {
      logFile: true,
      durability: 'buffered',
    }),
    callguardScenario('log-written', 'cached token, decision log to a file, durability written (answered after write(2) of its batch)', 10, pair, {
      logFile: true,
      durability: 'written',
    }),
    callguardScenario('log-fsync', 'cached token, decision log to a file, durability fsync (answered after write(2) + fsync(2) of its batch)', 10, pair, {
      logFile: true,
      durability: 'fsync',
    }),
    ...(options.workers > 1 ? [clustered(baseline), clustered(cached)] : []),
  ];
}
