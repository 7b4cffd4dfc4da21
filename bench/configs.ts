/**
 * callguard configurations for the benchmark scenarios (see src/config/schema.json for every key).
 * Each function gets its own schema file, so 1000 functions really means 1000 compiled schemas.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { AUDIENCE, type Fixtures, GROUP, ISSUER, orderSchema, TRUST_DOMAIN } from './fixtures.js';
import { callguardCommand } from './servers.js';

export interface BenchConfigSpec {
  readonly functions: number;
  /** Verified-token cache size; smaller than the token rotation means every request misses. */
  readonly tokenCacheSize?: number;
  /** Decision log file. `/dev/null` stands in for "off": callguard has no off switch, so records are still built and serialized, then discarded by the kernel. */
  readonly decisionLog: string;
  /** `decisionLog.durability`; callguard's default (`written`) when absent. */
  readonly durability?: 'written' | 'fsync' | 'buffered';
  /** `server.maxInFlight`; callguard's default when absent. */
  readonly maxInFlight?: number;
  /** `functions[].singleUse` on every function (issue 10). */
  readonly singleUse?: boolean;
  /** The `replay` section (where single-use credentials and DPoP proof ids are remembered). */
  readonly replay?: Record<string, unknown>;
  /** `false`: `admin.enabled: false`, no admin listener and no metrics (issue 11: what metrics cost). */
  readonly admin?: boolean;
  /** gRPC functions (issue 12): the body is a gRPC call, decoded with this descriptor set and method. */
  readonly grpc?: { readonly descriptorSet: string; readonly method: string };
  /** Other identity sections (`apiKeys`, `saml`) and the rule that admits their callers. */
  readonly credential?: { readonly identity: Record<string, unknown>; readonly rule: Record<string, unknown> };
  /** Every function an MCP endpoint with one tool, `create_order`, taking the same schema as `arguments` (issue 12). */
  readonly mcp?: boolean;
}

/** The tool of an MCP bench function (`spec.mcp`). */
export const MCP_TOOL = 'create_order';

/**
 * Whether the callguard build being benched has the `admin` section. It is on by default at a fixed port, and
 * scenarios run side by side: each gets port 0 (and pays for its metrics, as in production). A build from
 * before it (`CALLGUARD_MAIN`, for a before/after comparison) would refuse the unknown key.
 */
function benchedBuildHasAdmin(): boolean {
  const root = join(import.meta.dirname, '..');
  const main = callguardCommand(root)?.args.at(-1);
  if (main === undefined) return false;
  const schema = join(dirname(main), '../config/schema.json');
  return existsSync(schema) && 'admin' in (JSON.parse(readFileSync(schema, 'utf8')) as { properties: object }).properties;
}

/** Path of function `index`; the load targets the last one, the worst case for a linear lookup. */
export function functionPath(index: number): string {
  return `/api/v1/fn-${String(index).padStart(4, '0')}/orders`;
}

/** Writes `<dir>/<name>.yaml` plus its schema files and returns the config path. */
export function writeBenchConfig(fixtures: Fixtures, name: string, spec: BenchConfigSpec): string {
  const schemaDir = join(fixtures.dir, `schemas-${spec.functions}`);
  mkdirSync(schemaDir, { recursive: true });
  const allow = [{ issuer: 'bench', groups: [GROUP] }, ...(spec.credential ? [spec.credential.rule] : [])];
  const fieldRules = { sensitive: ['/customer/email'], logFields: ['/orderId'] };
  const functions = Array.from({ length: spec.functions }, (_, i) => {
    const schemaFile = join(schemaDir, `fn-${i}.schema.json`);
    writeFileSync(schemaFile, JSON.stringify(orderSchema(`fn-${i} input`)));
    return {
      name: `orders.fn-${i}`,
      match: { method: 'POST', path: functionPath(i) },
      requireMtls: true,
      ...(spec.singleUse === true ? { singleUse: true } : {}),
      allow,
      ...(spec.mcp === true
        ? { mcp: { tools: [{ name: MCP_TOOL, allow, schema: schemaFile, ...fieldRules }] } }
        : {
            input: {
              ...(spec.grpc === undefined
                ? {}
                : { contentType: 'application/grpc', grpc: { descriptorSet: spec.grpc.descriptorSet, method: spec.grpc.method } }),
              schema: schemaFile,
              ...fieldRules,
            },
          }),
    };
  });
  const config = {
    server: { listen: '127.0.0.1:0', ...(spec.maxInFlight === undefined ? {} : { maxInFlight: spec.maxInFlight }) },
    identity: {
      ...(spec.tokenCacheSize === undefined ? {} : { tokenCacheSize: spec.tokenCacheSize }),
      issuers: [
        {
          name: 'bench',
          issuer: ISSUER,
          audiences: [AUDIENCE],
          algorithms: ['RS256'],
          jwksFile: fixtures.jwksFile,
        },
      ],
      spiffe: { trustDomains: [TRUST_DOMAIN] },
      ...spec.credential?.identity,
    },
    functions,
    ...(benchedBuildHasAdmin() ? { admin: spec.admin === false ? { enabled: false } : { listen: '127.0.0.1:0' } } : {}),
    ...(spec.replay === undefined ? {} : { replay: spec.replay }),
    decisionLog: { destination: spec.decisionLog, ...(spec.durability === undefined ? {} : { durability: spec.durability }) },
  };
  const file = join(fixtures.dir, `${name}.yaml`);
  writeFileSync(file, stringify(config));
  return file;
}
