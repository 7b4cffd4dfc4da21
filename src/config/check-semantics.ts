import { isLoopbackHost, splitListen } from '../admin/admin-address.js';
import type { ConfigProblem } from '../errors.js';
import { functionMethods } from '../functions/function-registry.js';
import { parsePathTemplate, templateParamNames } from '../functions/path-template.js';
import { identitySources } from '../identity/identity-sources.js';
import { claimNameProblem } from '../identity/read-claim.js';
import { parseRedisUrl } from '../replay/redis-url.js';
import { checkIssuers, issuerPath } from './check-issuers.js';
import { checkRelp } from './check-relp.js';
import type { Config } from './types.js';

/** Cross-field rules JSON Schema cannot express. Returns every problem found. */
export function checkSemantics(config: Config): ConfigProblem[] {
  const file = config.file;
  const problems: ConfigProblem[] = [];
  const add = (path: string, message: string): void => {
    problems.push({ file, path, message });
  };

  const tls = config.server.tls;
  if (tls && tls.clientSans.length > 0 && tls.clientCa === undefined) add('/server/tls/clientSans', 'requires clientCa');
  if (tls && tls.clientCrl !== undefined && tls.clientCa === undefined) add('/server/tls/clientCrl', 'requires clientCa');
  problems.push(...checkAdmin(config));

  const log = config.decisionLog;
  const stream = log.destination === 'stdout' || log.destination === 'stderr';
  if (log.rotate !== undefined && stream) add('/decisionLog/rotate', `needs a file destination; ${log.destination} cannot be rotated`);
  if (log.rotate !== undefined && log.rotate.maxBytes === undefined && log.rotate.everySeconds === undefined)
    add('/decisionLog/rotate', 'set maxBytes, everySeconds or both');
  if (log.durability === 'fsync' && stream) add('/decisionLog/durability', `"fsync" needs a file destination; ${log.destination} cannot be fsync'ed`);

  problems.push(...checkRelp(config.decisionLog, file));
  problems.push(...checkIssuers(config.identity.issuers, file));
  const { sources, duplicates } = identitySources(config.identity);
  for (const { name, path } of duplicates)
    add(path, `duplicate identity source name "${name}" (issuers, SAML identity providers and the API key store share one namespace)`);
  config.identity.issuers.forEach((issuer, i) => {
    const at = issuerPath(i);
    if (issuer.jwksUrl !== undefined && !isSafeUrl(issuer.jwksUrl)) add(`${at}/jwksUrl`, 'must be https (http only on loopback)');
    if (issuer.fetch.maxStaleSeconds < issuer.fetch.refreshSeconds) {
      add(`${at}/fetch/maxStaleSeconds`, 'must be at least refreshSeconds (keys would go stale before their first refresh)');
    }
    const groupsProblem = claimNameProblem(issuer.groupsClaim);
    if (groupsProblem !== undefined) add(`${at}/groupsClaim`, groupsProblem);
    if (issuer.discovery && !isSafeUrl(issuer.issuer)) add(`${at}/issuer`, 'discovery needs an https issuer URL (http only on loopback)');
  });

  config.identity.saml.forEach((idp, i) => {
    const at = `/identity/saml/${i}`;
    if ((idp.metadataFile === undefined) === (idp.metadataUrl === undefined)) add(at, 'exactly one of metadataFile, metadataUrl is required');
    if (idp.metadataUrl !== undefined && !isSafeUrl(idp.metadataUrl)) add(`${at}/metadataUrl`, 'must be https (http only on loopback)');
    if (idp.fetch.maxStaleSeconds < idp.fetch.refreshSeconds)
      add(`${at}/fetch/maxStaleSeconds`, 'must be at least refreshSeconds (metadata would go stale before its first refresh)');
  });

  const keys = config.identity.apiKeys;
  if (keys?.header !== undefined) {
    if (keys.header === 'authorization') add('/identity/apiKeys/header', 'keys in Authorization are read as `ApiKey <key>` already; name another header');
    else if (RESERVED_HEADERS.has(keys.header) || keys.header.startsWith('x-envoy-') || keys.header.startsWith('x-forwarded-')) {
      add('/identity/apiKeys/header', `"${keys.header}" carries something else (HTTP, Envoy or a proxy set it); name a header of its own, e.g. x-api-key`);
    }
    if (keys.header.startsWith(config.upstream.headerPrefix))
      add('/identity/apiKeys/header', `must not start with upstream.headerPrefix "${config.upstream.headerPrefix}" (callguard sets those)`);
  }

  const functionNames = new Set<string>();
  const routes = new Map<string, string>();
  config.functions.forEach((fn, i) => {
    const at = `/functions/${i}`;
    if (functionNames.has(fn.name)) add(`${at}/name`, `duplicate function name "${fn.name}"`);
    functionNames.add(fn.name);
    if (fn.match) {
      const template = parsePathTemplate(fn.match.path);
      if (!template.ok) add(`${at}/match/path`, template.problem);
      else {
        const params = new Set(templateParamNames(fn.match.path));
        fn.match.logParams.forEach((name, p) => {
          if (!params.has(name)) add(`${at}/match/logParams/${p}`, `"${name}" is not a {param} of "${fn.match?.path}"`);
        });
        for (const method of functionMethods(fn)) {
          const key = `${method} ${template.template.shape}`;
          const other = routes.get(key);
          if (other !== undefined) add(`${at}/match`, `same method and path shape as function "${other}"`);
          routes.set(key, fn.name);
        }
      }
    }
    if (fn.allow.length === 0) add(`${at}/allow`, 'no rule: nobody could call this function (remove it instead)');
    if (fn.mcp !== undefined && fn.input !== undefined) add(`${at}/mcp`, 'an MCP endpoint takes JSON-RPC: remove `input` (each tool has its schema)');
    if (fn.mcp !== undefined && fn.match !== undefined && fn.match.method !== 'POST')
      add(`${at}/match/method`, 'an MCP endpoint is POSTed to (streamable HTTP)');
    const rules = [
      ...fn.allow.map((rule, r) => [rule, `${at}/allow/${r}`] as const),
      ...(fn.mcp?.tools ?? []).flatMap((tool, t) => tool.allow.map((rule, r) => [rule, `${at}/mcp/tools/${t}/allow/${r}`] as const)),
    ];
    rules.forEach(([rule, ruleAt]) => {
      if ('issuer' in rule && !sources.has(rule.issuer)) {
        add(`${ruleAt}/issuer`, `unknown identity source "${rule.issuer}" (known: ${[...sources.keys()].join(', ') || 'none'})`);
      }
      if ('issuer' in rule && rule.claims !== undefined) {
        for (const name of Object.keys(rule.claims)) {
          const problem = claimNameProblem(name);
          if (problem !== undefined) add(`${ruleAt}/claims/${escapePointer(name)}`, problem);
        }
      }
      if ('spiffeIds' in rule) {
        rule.spiffeIds.forEach((id, s) => {
          const domain = /^spiffe:\/\/([^/]+)\//.exec(id)?.[1];
          if (domain === undefined || !config.identity.spiffe.trustDomains.includes(domain)) {
            add(`${ruleAt}/spiffeIds/${s}`, `"${id}" is not in a configured identity.spiffe.trustDomains entry`);
          }
        });
      }
    });
    if (fn.singleUse && !fn.allow.some((rule) => 'issuer' in rule && ['jwt', 'saml'].includes(sources.get(rule.issuer)?.kind ?? ''))) {
      add(`${at}/singleUse`, 'no rule names a JWT issuer or a SAML identity provider: nothing this function accepts can be single-use');
    }
    if (fn.requireMtls && config.identity.spiffe.trustDomains.length === 0) {
      add(`${at}/requireMtls`, 'requires identity.spiffe.trustDomains');
    }
  });

  const redis = config.replay.redis;
  if (redis !== undefined) {
    const parsed = parseRedisUrl(redis.url);
    if (!parsed.ok) add('/replay/redis/url', parsed.problem);
    else if (redis.caFile !== undefined && !parsed.endpoint.tls) add('/replay/redis/caFile', 'is only used with a rediss:// url');
  }
  return problems;
}

/** The admin listener has no authentication: loopback unless the operator says otherwise, and a port of its own. */
function checkAdmin(config: Config): ConfigProblem[] {
  const { admin, file } = config;
  if (!admin.enabled) return [];
  const problems: ConfigProblem[] = [];
  const { host, port } = splitListen(admin.listen);
  if (port > 65535) problems.push({ file, path: '/admin/listen', message: `port ${port} is out of range (0-65535)` });
  if (!admin.allowNonLoopback && !isLoopbackHost(host)) {
    problems.push({
      file,
      path: '/admin/listen',
      message: `"${host}" is not a loopback address: the admin listener has no authentication; set admin.allowNonLoopback: true to expose it`,
    });
  }
  if (port !== 0 && admin.listen === config.server.listen) problems.push({ file, path: '/admin/listen', message: 'same address as server.listen' });
  return problems;
}

/** Headers with another meaning, and names a plain object already has. */
const RESERVED_HEADERS = new Set([
  'host',
  'content-type',
  'content-length',
  'content-encoding',
  'cookie',
  'user-agent',
  'x-request-id',
  'traceparent',
  'te',
  'constructor',
  '__proto__',
  'prototype',
  'tostring',
  'hasownproperty',
  'valueof',
]);

/** RFC 6901 §3: a key as one pointer segment. */
function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

function isSafeUrl(value: string): boolean {
  try {
    const url = new URL(value);
    if (url.protocol === 'https:') return true;
    return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  } catch {
    return false;
  }
}
