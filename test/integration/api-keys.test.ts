import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildCallguard, type Callguard } from '../../src/build-callguard.js';
import { runKeys } from '../../src/cli/keys.js';
import { parseConfig } from '../../src/config/load-config.js';
import { generateApiKey, hashApiKey } from '../../src/identity/api-key/api-key-format.js';
import { createKey, revokeKeys } from '../../src/identity/api-key/key-operations.js';
import { type KeysFile, writeKeysFile } from '../../src/identity/api-key/keys-file.js';
import { type RunningServer, startGrpcServer } from '../../src/server/grpc-server.js';
import { createCheckClient, type EnvoyShape, summarize } from '../helpers/envoy-check.js';
import { createTestIssuer, type TestIssuer } from '../helpers/jwt-issuer.js';
import { createMemoryDestination } from '../helpers/memory-destination.js';

const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'callguard-api-keys-'));
const keysFile = join(dir, 'keys.json');

let issuer: TestIssuer;
let callguard: Callguard;
let server: RunningServer;
let client: ReturnType<typeof createCheckClient>;
const log = createMemoryDestination();
/** Background events of the running callguard (reloads, expiry warnings), each with when it arrived. */
const events: { at: number; level: string; msg: string }[] = [];
const eventListeners = new Set<(event: { at: number; msg: string }) => void>();
const made: Record<string, { id: string; key: string }> = {};
const tokens: Record<string, string> = {};

const key = (name: string): string => made[name]?.key as string;
const id = (name: string): string => made[name]?.id as string;

/** Keys made with the real clock: the load test below revokes with the real CLI. */
function makeKeys(now: number): KeysFile {
  let file: KeysFile = { version: 1, keys: [] };
  const add = (name: string, owner: string, groups: string[], extra: { functions?: string[]; createdAt?: number; expiresAt?: number } = {}) => {
    const createdAt = extra.createdAt ?? now;
    const spec = { owner, groups, expiresAtMs: extra.expiresAt ?? now + 30 * DAY, ...(extra.functions ? { functions: extra.functions } : {}) };
    const created = createKey(file, spec, createdAt, 90);
    file = created.file;
    made[name] = { id: created.record.id, key: created.key };
  };
  add('ci', 'team-ci', ['ci']);
  add('bob', 'bob', []);
  add('bobDeployOnly', 'bob', ['ci'], { functions: ['deploy.run'] });
  add('expired', 'team-old', ['ci'], { createdAt: now - 40 * DAY, expiresAt: now - DAY });
  add('revoked', 'mallory', ['ci']);
  add('load', 'team-load', ['ci']);
  return revokeKeys(file, { ids: [id('revoked')] }, now - 60_000).file;
}

beforeAll(async () => {
  issuer = await createTestIssuer();
  writeKeysFile(keysFile, makeKeys(Date.now()));
  tokens.builder = await issuer.mint({ claims: { sub: 'carol', groups: ['builders'] } });
  const config = parseConfig(
    `
server: { listen: "127.0.0.1:0" }
identity:
  issuers:
    - { name: corp, issuer: "${issuer.url}", audiences: [callguard], algorithms: [RS256], jwksUrl: "${issuer.jwksUrl}" }
  apiKeys: { file: keys.json, header: x-api-key }
functions:
  - name: deploy.run
    match: { method: POST, path: /deploy }
    allow: [{ issuer: apiKeys, groups: [ci] }]
  - name: builds.list
    match: { method: GET, path: /builds }
    allow: [{ issuer: corp, groups: [builders] }, { issuer: apiKeys, subjects: [bob] }]
  - name: status.get
    match: { method: GET, path: /status }
    allow: [{ issuer: apiKeys, claims: { id: ${id('ci')} } }]
  - name: reports.run
    match: { method: GET, path: /reports }
    allow: [{ issuer: corp, subjects: [svc-reports] }]
`,
    join(dir, 'callguard.yaml'),
  );
  expect(config.identity.apiKeys).toMatchObject({ name: 'apiKeys', file: keysFile, maxLifetimeDays: 90, warnBeforeDays: 7, reloadIntervalMs: 250 });
  callguard = await buildCallguard(config, {
    decisionLog: log.stream,
    onEvent: (event) => {
      const at = performance.now();
      events.push({ at, level: event.level, msg: event.msg });
      for (const listener of eventListeners) listener({ at, msg: event.msg });
    },
  });
  server = await startGrpcServer(config.server, callguard.handleCheck);
  client = createCheckClient(server.address);
});
afterAll(async () => {
  client?.close();
  await server?.close(1000);
  await callguard?.close();
  await issuer?.close();
  rmSync(dir, { recursive: true, force: true });
});

const deploy = (headers: Record<string, string>): EnvoyShape => ({ method: 'POST', path: '/deploy', headers });
const apiKey = (name: string) => ({ authorization: `ApiKey ${key(name)}` });
const xApiKey = (name: string) => ({ 'x-api-key': key(name) });

describe('API keys where a rule names the key store', () => {
  it.each([
    { name: 'Authorization: ApiKey', headers: () => apiKey('ci') },
    { name: 'scheme in lower case (RFC 9110 §11.1)', headers: () => ({ authorization: `apikey ${key('ci')}` }) },
    { name: 'the x-api-key header', headers: () => xApiKey('ci') },
  ])('$name → allowed, the owner goes upstream and the key does not', async ({ headers }) => {
    const s = summarize(await client.check(deploy(headers())));
    expect(s.allow ? 'allow' : s.problem.code).toBe('allow');
    if (!s.allow) return;
    expect(s.headers).toEqual({
      'x-callguard-function': 'deploy.run',
      'x-callguard-decision-id': expect.stringMatching(/^[0-9a-f-]{36}$/),
      'x-callguard-subject': 'team-ci',
      'x-callguard-issuer': 'apiKeys',
      'x-callguard-groups': 'ci',
      'x-callguard-credential': 'apiKey',
    });
    expect(s.remove).toEqual(expect.arrayContaining(['authorization', 'x-api-key']));
  });

  it.each([
    { name: 'subjects: the owner', path: '/builds', key: 'bob', code: 'allow' },
    { name: 'subjects: another owner', path: '/builds', key: 'ci', code: 'ERR_NOT_PERMITTED' },
    { name: 'claims: the key id', path: '/status', key: 'ci', code: 'allow' },
    { name: 'claims: another key id', path: '/status', key: 'bob', code: 'ERR_NOT_PERMITTED' },
    { name: 'groups: a key without the group', path: '/deploy', key: 'bob', code: 'ERR_NOT_PERMITTED' },
    { name: 'a key restricted to other functions, though a rule matches its owner', path: '/builds', key: 'bobDeployOnly', code: 'ERR_NOT_PERMITTED' },
    { name: 'a key restricted to this function', path: '/deploy', key: 'bobDeployOnly', code: 'allow' },
  ])('$name → $code', async ({ path, key: name, code }) => {
    const s = summarize(await client.check({ method: path === '/deploy' ? 'POST' : 'GET', path, headers: apiKey(name) }));
    expect(s.allow ? 'allow' : s.problem.code).toBe(code);
    if (!s.allow) expect(s.status).toBe(403);
  });
});

describe('API keys refused', () => {
  it.each([
    {
      name: 'function whose rules name no key store',
      shape: () => ({ method: 'GET', path: '/reports', headers: apiKey('ci') }),
      code: 'ERR_CREDENTIAL_NOT_ACCEPTED',
    },
    { name: 'same, key in x-api-key', shape: () => ({ method: 'GET', path: '/reports', headers: xApiKey('ci') }), code: 'ERR_CREDENTIAL_NOT_ACCEPTED' },
    {
      name: 'same, malformed key (refused before any lookup)',
      shape: () => ({ method: 'GET', path: '/reports', headers: { authorization: 'ApiKey nope' } }),
      code: 'ERR_CREDENTIAL_NOT_ACCEPTED',
    },
    { name: 'unknown key', shape: () => deploy({ authorization: `ApiKey ${generateApiKey().key}` }), code: 'ERR_API_KEY_UNKNOWN' },
    {
      name: 'malformed key (bad checksum)',
      shape: () => deploy({ authorization: `ApiKey ${key('ci').slice(0, -1)}${key('ci').endsWith('a') ? 'b' : 'a'}` }),
      code: 'ERR_API_KEY_MALFORMED',
    },
    { name: 'malformed key in x-api-key', shape: () => deploy({ 'x-api-key': 'cgk_short' }), code: 'ERR_API_KEY_MALFORMED' },
    { name: 'ApiKey scheme without a key', shape: () => deploy({ authorization: 'ApiKey' }), code: 'ERR_API_KEY_MALFORMED' },
    { name: 'expired key', shape: () => deploy(apiKey('expired')), code: 'ERR_API_KEY_EXPIRED' },
    { name: 'revoked key', shape: () => deploy(xApiKey('revoked')), code: 'ERR_API_KEY_REVOKED' },
    {
      name: 'a key and a bearer token',
      shape: () => deploy({ authorization: `Bearer ${tokens.builder}`, ...xApiKey('ci') }),
      code: 'ERR_CREDENTIAL_AMBIGUOUS',
    },
    { name: 'a key in both headers', shape: () => deploy({ ...apiKey('ci'), ...xApiKey('ci') }), code: 'ERR_CREDENTIAL_AMBIGUOUS' },
    {
      name: 'ApiKey and Bearer joined in one Authorization',
      shape: () => deploy({ authorization: `ApiKey ${key('ci')},Bearer ${tokens.builder}` }),
      code: 'ERR_CREDENTIAL_AMBIGUOUS',
    },
    { name: 'x-api-key sent twice (joined by Envoy)', shape: () => deploy({ 'x-api-key': `${key('ci')},${key('bob')}` }), code: 'ERR_CREDENTIAL_AMBIGUOUS' },
  ])('$name → 401 $code', async ({ shape, code }) => {
    const s = summarize(await client.check(shape() as EnvoyShape));
    expect(s.allow ? 'allow' : s.problem.code).toBe(code);
    if (s.allow) return;
    expect(s.status).toBe(401);
    // RFC 9110 §11.6.1: the challenge names the scheme to retry with.
    expect(s.headers['www-authenticate']).toMatch(code.startsWith('ERR_API_KEY_') ? /^ApiKey realm="callguard"/ : /^Bearer realm="callguard"/);
    expect(JSON.stringify(s)).not.toMatch(/cgk_[0-9A-Za-z]{20}/);
  });

  it('a bearer token alone still works on a function that also names the key store', async () => {
    const s = summarize(await client.check({ method: 'GET', path: '/builds', headers: { authorization: `Bearer ${tokens.builder}` } }));
    expect(s.allow ? 'allow' : s.problem.code).toBe('allow');
  });
});

describe('decision log', () => {
  /** Every form of the key a log line must never hold. */
  const secretsOf = (name: string): string[] => [key(name), key(name).slice(4, 47), hashApiKey(key(name)), hashApiKey(key(name)).slice(7)];
  const lineOf = (decisionId: string): { parsed: Record<string, unknown>; raw: string } => {
    const i = log.lines.findIndex((line) => line.decisionId === decisionId);
    expect(i, `decision ${decisionId} logged`).toBeGreaterThanOrEqual(0);
    return { parsed: log.lines[i] as Record<string, unknown>, raw: log.raw[i] as string };
  };

  it.each([
    { name: 'ApiKey scheme', headers: () => apiKey('ci') },
    { name: 'x-api-key', headers: () => xApiKey('ci') },
  ])('an allow ($name) records kind, keyId and owner, and neither the key nor its hash', async ({ headers }) => {
    const s = summarize(await client.check(deploy(headers())));
    expect(s.allow).toBe(true);
    const { parsed, raw } = lineOf(s.headers['x-callguard-decision-id'] as string);
    expect(parsed).toMatchObject({ outcome: 'allow', code: null, function: 'deploy.run' });
    expect(parsed.principal).toEqual({ kind: 'apiKey', issuer: 'apiKeys', subject: 'team-ci', groups: ['ci'], keyId: id('ci') });
    for (const secret of secretsOf('ci')) expect(raw).not.toContain(secret);
  });

  it.each([
    { name: 'revoked', key: 'revoked', code: 'ERR_API_KEY_REVOKED', internal: () => `key ${id('revoked')} of mallory` },
    { name: 'expired', key: 'expired', code: 'ERR_API_KEY_EXPIRED', internal: () => `key ${id('expired')} of team-old` },
  ])('a denial of a $name key names the key id and owner for the operator, never the key', async ({ key: name, code, internal }) => {
    const s = summarize(await client.check(deploy(apiKey(name))));
    expect(s.allow ? 'allow' : s.problem.code).toBe(code);
    if (s.allow) return;
    const { parsed, raw } = lineOf(s.problem.decisionId as string);
    expect(parsed).toMatchObject({ outcome: 'deny', code, status: 401, internal: internal() });
    for (const secret of secretsOf(name)) expect(raw).not.toContain(secret);
    expect(JSON.stringify(s.problem)).not.toContain(id(name)); // the caller learns no key id
  });

  it('a denial of an unknown key records nothing of the presented value', async () => {
    const presented = generateApiKey().key;
    const s = summarize(await client.check(deploy({ 'x-api-key': presented })));
    expect(s.allow ? 'allow' : s.problem.code).toBe('ERR_API_KEY_UNKNOWN');
    if (s.allow) return;
    const { raw } = lineOf(s.problem.decisionId as string);
    for (const secret of [presented, presented.slice(4, 47), hashApiKey(presented).slice(7)]) expect(raw).not.toContain(secret);
  });
});

describe('revocation under load (real clock)', () => {
  it('no call sent after the reload is allowed, the reload follows the revoke within 1 s, and no call fails at the gRPC level', async () => {
    const LOOPS = 8;
    const WARM_UP_ALLOWS = 80;
    const CALLS_AFTER_RELOAD = 25; // per loop
    const samples: { sentAt: number; answeredAt: number; code: string }[] = [];
    const grpcErrors: unknown[] = [];
    let allowed = 0;
    let reloadAt: number | undefined;
    let stop = false;

    let warmedUp: () => void = () => {};
    const warm = new Promise<void>((resolve) => {
      warmedUp = resolve;
    });
    const reloaded = new Promise<number>((resolve) => {
      eventListeners.add(({ at, msg }) => {
        if (reloadAt === undefined && msg.startsWith('keys file reloaded')) {
          reloadAt = at;
          resolve(at);
        }
      });
    });

    const loop = async (): Promise<void> => {
      let afterReload = 0;
      while (!stop && afterReload < CALLS_AFTER_RELOAD) {
        const sentAt = performance.now();
        const sentAfterReload = reloadAt !== undefined; // the reload event had already fired when this call was sent
        try {
          const s = summarize(await client.check(deploy(apiKey('load'))));
          const code = s.allow ? 'allow' : s.problem.code;
          samples.push({ sentAt, answeredAt: performance.now(), code });
          if (code === 'allow' && ++allowed >= WARM_UP_ALLOWS) warmedUp();
        } catch (err) {
          grpcErrors.push(err);
          samples.push({ sentAt, answeredAt: performance.now(), code: 'grpc error' });
        }
        if (sentAfterReload) afterReload++;
      }
    };
    const loops = Array.from({ length: LOOPS }, loop);
    try {
      await warm;
      const revokeStart = performance.now();
      const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      let exit: number;
      let printed: unknown[][];
      try {
        exit = await runKeys(['revoke', id('load'), '--keys', keysFile]);
      } finally {
        printed = [...stdout.mock.calls];
        stdout.mockRestore();
      }
      const revokeDone = performance.now();
      expect(exit).toBe(0);
      expect(printed).toEqual([[`revoked 1 key(s): ${id('load')}\n`]]);
      const guard = new Promise<'no reload event'>((resolve) => setTimeout(() => resolve('no reload event'), 5000).unref());
      const at = await Promise.race([reloaded, guard]);
      expect(at).toEqual(expect.any(Number));
      await Promise.all(loops);

      const latencyMs = (reloadAt as number) - revokeDone;
      console.info(
        `api-keys load test: revoke took ${(revokeDone - revokeStart).toFixed(1)} ms, reload ${latencyMs.toFixed(1)} ms after it returned; ${samples.length} calls`,
      );
      expect(grpcErrors).toEqual([]);
      expect(latencyMs).toBeGreaterThanOrEqual(0);
      expect(latencyMs).toBeLessThanOrEqual(1000);
      // Answered before the revoke began (a call sent earlier but still in flight may meet the new file).
      const before = samples.filter((s) => s.answeredAt < revokeStart);
      const after = samples.filter((s) => s.sentAt > (reloadAt as number));
      expect(new Set(before.map((s) => s.code))).toEqual(new Set(['allow']));
      expect(new Set(after.map((s) => s.code))).toEqual(new Set(['ERR_API_KEY_REVOKED']));
      expect(after.length).toBeGreaterThanOrEqual(LOOPS * (CALLS_AFTER_RELOAD - 1));
      // In between (sent after the revoke, before the reload): either answer, never an error.
      expect(samples.every((s) => s.code === 'allow' || s.code === 'ERR_API_KEY_REVOKED')).toBe(true);
      // The other keys in the file were untouched by the reload.
      const other = summarize(await client.check(deploy(apiKey('ci'))));
      expect(other.allow ? 'allow' : other.problem.code).toBe('allow');
    } finally {
      stop = true;
      await Promise.allSettled(loops);
    }
  });
});
