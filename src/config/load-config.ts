import { hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { parseDocument } from 'yaml';
import { isRelpDestination } from '../decision-log/relp-destination.js';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { checkSemantics } from './check-semantics.js';
import configSchema from './schema.json' with { type: 'json' };
import type { Config, InputConfig, McpConfig, RedisReplayConfig, RelpConfig } from './types.js';

const validateShape = new Ajv2020({ allErrors: true, useDefaults: true, strict: false }).compile(configSchema);

/**
 * Reads, validates (JSON Schema, then cross-field rules) and freezes a configuration file.
 * Throws {@link ConfigError} listing every problem with the file and key path.
 */
export function loadConfig(file: string): Config {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file: path, path: '', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }]);
  }
  return parseConfig(text, path);
}

/** Same as {@link loadConfig} for text already read; `file` names the source in errors and anchors relative paths. */
export function parseConfig(text: string, file: string): Config {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => ({ file, path: '', message: `YAML: ${e.message.split('\n')[0]}` })));
  }
  const raw: unknown = doc.toJS() ?? {};
  // useDefaults fills documented defaults into our own copy of the config (not request data).
  if (!validateShape(raw)) {
    throw new ConfigError(toProblems(file, validateShape.errors ?? []));
  }
  const config = { ...resolvePaths(raw as unknown as Config, file), digest: hash('sha256', text, 'base64url') };
  const problems = checkSemantics(config);
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

/** Ajv's errors as problems naming `file` and the key path; the specific branch errors of oneOf/anyOf only, each once. */
export function toProblems(file: string, errors: readonly ErrorObject[]): ConfigProblem[] {
  const seen = new Set<string>();
  const problems: ConfigProblem[] = [];
  for (const e of errors) {
    // oneOf/anyOf produce a summary error plus branch errors; keep the specific ones.
    if (e.keyword === 'oneOf' || e.keyword === 'anyOf' || e.keyword === 'if') continue;
    let message = e.message ?? e.keyword;
    if (e.keyword === 'additionalProperties') message = `unknown key "${String(e.params['additionalProperty'])}"`;
    if (e.keyword === 'enum') message = `${message}: ${(e.params['allowedValues'] as unknown[]).join(', ')}`;
    const key = `${e.instancePath}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ file, path: e.instancePath, message });
  }
  return problems;
}

function resolvePaths(config: Config, file: string): Config {
  const base = dirname(file);
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(base, p));
  const tls = config.server.tls;
  return {
    ...config,
    file,
    server: tls
      ? {
          ...config.server,
          tls: {
            ...tls,
            cert: abs(tls.cert),
            key: abs(tls.key),
            ...(tls.clientCa ? { clientCa: abs(tls.clientCa) } : {}),
            ...(tls.clientCrl ? { clientCrl: abs(tls.clientCrl) } : {}),
          },
        }
      : config.server,
    identity: {
      ...config.identity,
      issuers: config.identity.issuers.map((i) => ({
        ...i,
        ...(i.jwksFile ? { jwksFile: abs(i.jwksFile) } : {}),
        ...(i.hmacSecretFile ? { hmacSecretFile: abs(i.hmacSecretFile) } : {}),
      })),
      saml: config.identity.saml.map((idp) => (idp.metadataFile ? { ...idp, metadataFile: abs(idp.metadataFile) } : idp)),
      ...(config.identity.apiKeys ? { apiKeys: { ...config.identity.apiKeys, file: abs(config.identity.apiKeys.file) } } : {}),
    },
    functions: config.functions.map((f) => {
      const input = f.input ? { ...f, input: resolveInputFiles(f.input, abs) } : f;
      return f.mcp ? { ...input, mcp: resolveMcpFiles(f.mcp, abs) } : input;
    }),
    decisionLog: {
      ...config.decisionLog,
      ...(config.decisionLog.checkpoint ? { checkpoint: { ...config.decisionLog.checkpoint, keyFile: abs(config.decisionLog.checkpoint.keyFile) } } : {}),
      destination:
        ['stdout', 'stderr'].includes(config.decisionLog.destination) || isRelpDestination(config.decisionLog.destination)
          ? config.decisionLog.destination
          : abs(config.decisionLog.destination),
      relp: resolveRelpFiles(config.decisionLog.relp, abs),
    },
    replay: config.replay.redis ? { ...config.replay, redis: resolveRedisFiles(config.replay.redis, abs) } : config.replay,
  };
}

function resolveRedisFiles(redis: RedisReplayConfig, abs: (p: string) => string): RedisReplayConfig {
  return {
    ...redis,
    ...(redis.passwordFile !== undefined ? { passwordFile: abs(redis.passwordFile) } : {}),
    ...(redis.caFile !== undefined ? { caFile: abs(redis.caFile) } : {}),
  };
}

function resolveMcpFiles(mcp: McpConfig, abs: (p: string) => string): McpConfig {
  const server = mcp.server;
  return {
    ...mcp,
    tools: mcp.tools.map((t) => (t.schema === undefined ? t : { ...t, schema: abs(t.schema) })),
    ...(server !== undefined
      ? {
          server: {
            ...server,
            ca: abs(server.ca),
            ...(server.cert !== undefined ? { cert: abs(server.cert) } : {}),
            ...(server.key !== undefined ? { key: abs(server.key) } : {}),
          },
        }
      : {}),
  };
}

function resolveRelpFiles(relp: RelpConfig, abs: (p: string) => string): RelpConfig {
  return {
    ...relp,
    ...(relp.ca !== undefined ? { ca: abs(relp.ca) } : {}),
    ...(relp.cert !== undefined ? { cert: abs(relp.cert) } : {}),
    ...(relp.key !== undefined ? { key: abs(relp.key) } : {}),
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function resolveInputFiles(input: InputConfig, abs: (p: string) => string): InputConfig {
  const grpc = input.grpc === undefined ? {} : { grpc: { ...input.grpc, descriptorSet: abs(input.grpc.descriptorSet) } };
  return { ...input, schema: abs(input.schema), ...grpc };
}
