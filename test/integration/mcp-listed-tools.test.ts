import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { buildCallguard, type Callguard } from '../../src/build-callguard.js';
import { parseConfig } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/types.js';
import { ConfigError } from '../../src/errors.js';
import { CHARGE_SCHEMA, fixtureConfigYaml, ORDERS_SCHEMA } from '../helpers/callguard-fixture.js';
import { decodeCheckResponse, envoyCheckBytes, summarize } from '../helpers/envoy-check.js';
import { createTestIssuer, type TestIssuer } from '../helpers/jwt-issuer.js';
import { startWeatherServer, type WeatherServer } from '../helpers/mcp-weather.js';
import { createMemoryDestination } from '../helpers/memory-destination.js';
import { runCli } from '../helpers/run-cli.js';
import { createTestCerts } from '../helpers/test-certs.js';

type Json = Record<string, unknown>;
type Event = { level: string; msg: string };

let certs: ReturnType<typeof createTestCerts>;
let issuer: TestIssuer;
let serverTls: { cert: Buffer; key: Buffer };
let agent: string;
const running: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  certs = createTestCerts();
  writeFileSync(join(certs.dir, 'ca.crt'), certs.caPem);
  writeFileSync(join(certs.dir, 'orders.json'), JSON.stringify(ORDERS_SCHEMA));
  writeFileSync(join(certs.dir, 'charge.json'), JSON.stringify(CHARGE_SCHEMA));
  const leaf = certs.leaf('weather', 'DNS:weather.internal,IP:127.0.0.1');
  serverTls = { cert: readFileSync(leaf.certFile), key: readFileSync(leaf.keyFile) };
  issuer = await createTestIssuer();
  agent = await issuer.mint({ claims: { sub: 'bot-1', groups: ['agents'] } });
});
afterAll(async () => {
  for (const r of running.splice(0)) await r.close();
  await issuer?.close();
  rmSync(certs.dir, { recursive: true, force: true });
});

/** The fixture config plus an MCP function whose tools take the schemas the server at `port` lists. */
function config(port: number, change: (mcp: Json) => void = () => {}): Config {
  return parseConfig(configYaml(port, change), join(certs.dir, 'callguard.yaml'));
}

function configYaml(port: number, change: (mcp: Json) => void = () => {}): string {
  const parsed = parse(fixtureConfigYaml(issuer.jwksUrl, issuer.url)) as Json;
  const mcp: Json = {
    server: { url: `https://127.0.0.1:${port}/mcp`, ca: join(certs.dir, 'ca.crt'), serverName: 'weather.internal', timeoutMs: 2000, retryMs: 100 },
    tools: [
      { name: 'get_weather', allow: [{ issuer: 'corp', groups: ['agents'] }], logFields: ['/city'] },
      { name: 'delete_city', allow: [{ issuer: 'corp', groups: ['agents'] }] },
    ],
  };
  change(mcp);
  (parsed['functions'] as Json[]).push({ name: 'weather.mcp', match: { method: 'POST', path: '/mcp' }, allow: [{ issuer: 'corp', groups: ['agents'] }], mcp });
  return stringify(parsed);
}

async function start(cfg: Config) {
  const log = createMemoryDestination();
  const events: Event[] = [];
  const callguard = await buildCallguard(cfg, { decisionLog: log.stream, onEvent: (e) => void events.push(e) });
  running.push(callguard);
  return { callguard, log, events };
}

async function weather(port?: number): Promise<WeatherServer> {
  const server = await startWeatherServer({ tls: serverTls, ...(port !== undefined ? { port } : {}) });
  running.push(server);
  return server;
}

async function callTool(callguard: Callguard, name: string, args: Json) {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } });
  const bytes = envoyCheckBytes({ method: 'POST', path: '/mcp', headers: { authorization: `Bearer ${agent}`, 'content-type': 'application/json' }, body });
  return summarize(decodeCheckResponse(await callguard.handleCheck(bytes)));
}

/** A loopback port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const probe: Server = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function until<T>(what: string, read: () => T | Promise<T>, ok: (value: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('MCP tool schemas listed by the server (mcp.server), a real MCP SDK server over TLS', () => {
  it('at start: tools/call arguments are judged by the listed inputSchema', async () => {
    const server = await weather();
    const { callguard, log } = await start(config(server.port));
    expect(callguard.toolServers()).toEqual([{ function: 'weather.mcp', url: `https://127.0.0.1:${server.port}/mcp`, listed: true }]);
    expect(await callTool(callguard, 'get_weather', { city: 'Oslo', days: 3 })).toMatchObject({ allow: true });
    const refused = await callTool(callguard, 'get_weather', { city: 'Oslo', days: 30 });
    expect(refused).toMatchObject({ allow: false, status: 400, problem: { code: 'ERR_BODY_SCHEMA' } });
    expect(log.lines.at(-1)).toMatchObject({ outcome: 'deny', code: 'ERR_BODY_SCHEMA', payload: { jsonrpc: { tool: 'get_weather' } } });
    expect(await callTool(callguard, 'delete_city', {})).toMatchObject({ allow: false, problem: { code: 'ERR_BODY_SCHEMA' } });
  });

  it('the server down at start: callguard starts, those tools are 503 ERR_MCP_TOOLS_UNAVAILABLE, a retry lists them once it is up', async () => {
    const port = await freePort();
    const { callguard, log, events } = await start(config(port));
    expect(callguard.toolServers()).toMatchObject([{ function: 'weather.mcp', listed: false }]);
    expect(events.find((e) => e.level === 'warn')?.msg).toMatch(
      /^function "weather\.mcp": cannot list the tools of https:\/\/127\.0\.0\.1:\d+\/mcp .*ECONNREFUSED/,
    );
    const refused = await callTool(callguard, 'get_weather', { city: 'Oslo' });
    expect(refused).toMatchObject({ allow: false, status: 503, problem: { code: 'ERR_MCP_TOOLS_UNAVAILABLE' } });
    // Other functions decide as usual meanwhile.
    const before = callguard.policyDigest();
    await weather(port);
    await until(
      'the retry to list the tools',
      () => callguard.toolServers()[0]?.listed,
      (listed) => listed === true,
    );
    expect(callguard.policyDigest()).not.toBe(before);
    expect(await callTool(callguard, 'get_weather', { city: 'Oslo' })).toMatchObject({ allow: true });
    expect(events.at(-1)).toMatchObject({ level: 'info', msg: expect.stringContaining('listed the tools of "weather.mcp"') });
    expect(log.all).toContainEqual(expect.objectContaining({ msg: 'decision-log-config', reason: 'mcp-tools-listed', configDigest: callguard.policyDigest() }));
  });

  it('a reload while the server is down is refused, naming the function; the running config keeps serving', async () => {
    const server = await weather();
    const { callguard } = await start(config(server.port));
    await server.close();
    const err = await callguard.reload(config(server.port)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems).toEqual([
      expect.objectContaining({
        path: '/functions/5/mcp/server',
        message: expect.stringMatching(/^cannot list the tools of .*; the running config keeps serving$/),
      }),
    ]);
    expect(await callTool(callguard, 'get_weather', { city: 'Oslo' })).toMatchObject({ allow: true });
  });

  it.each([
    {
      name: 'a configured tool the server does not list',
      change: (mcp: Json) => (mcp['tools'] as Json[]).push({ name: 'get_forecast', allow: [] }),
      path: '/functions/5/mcp/tools/2/name',
      message: /does not list tool "get_forecast" \(it lists: get_weather, delete_city\)/,
    },
    {
      name: 'a CA the server certificate does not chain to',
      change: (mcp: Json) => {
        const other = createTestCerts();
        writeFileSync(join(other.dir, 'ca.crt'), other.caPem);
        (mcp['server'] as Json)['ca'] = join(other.dir, 'ca.crt');
      },
      path: '/functions/5/mcp/server',
      message: /cannot list the tools of .*certificate/i,
    },
    {
      name: 'a server name its certificate does not carry',
      change: (mcp: Json) => {
        (mcp['server'] as Json)['serverName'] = 'impostor.internal';
      },
      path: '/functions/5/mcp/server',
      message: /cannot list the tools of .*impostor\.internal/,
    },
  ])('a reload refused: $name', async ({ change, path, message }) => {
    const server = await weather();
    const { callguard } = await start(config(server.port));
    const err = await callguard.reload(config(server.port, change)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toContainEqual(expect.objectContaining({ path, message: expect.stringMatching(message) }));
  });

  describe('the CLI: check warns, test needs the listing', () => {
    const CASES = `cases:
  - name: an agent gets the weather
    request: { method: POST, path: /mcp, body: { jsonrpc: "2.0", id: 1, method: tools/call, params: { name: get_weather, arguments: { city: Oslo } } } }
    caller: { jwt: { iss: ISSUER, sub: bot-1, groups: [agents] } }
    expect: { outcome: allow }
  - name: a week at most, as the server lists it
    request: { method: POST, path: /mcp, body: { jsonrpc: "2.0", id: 2, method: tools/call, params: { name: get_weather, arguments: { city: Oslo, days: 30 } } } }
    caller: { jwt: { iss: ISSUER, sub: bot-1, groups: [agents] } }
    expect: { outcome: deny, status: 400, code: ERR_BODY_SCHEMA, violations: [{ pointer: /params/arguments/days, keyword: maximum }] }
`;
    const files = (port: number) => {
      const file = join(certs.dir, `cli-${port}.yaml`);
      writeFileSync(file, configYaml(port));
      const cases = join(certs.dir, `cli-${port}.test.yaml`);
      writeFileSync(cases, CASES.replaceAll('ISSUER', issuer.url));
      return { file, cases };
    };

    it('server up: check passes without a warning; test judges the cases by the listed schema', async () => {
      const server = await weather();
      const { file, cases } = files(server.port);
      const check = await runCli(['check', '--config', file]);
      expect([check.code, check.stderr]).toEqual([0, '']);
      const test = await runCli(['test', cases, '--config', file]);
      expect(test.code, test.stdout + test.stderr).toBe(0);
      expect(test.stdout).toContain('2 passed, 0 failed');
    });

    it('server down: check passes with a warning naming the function and why; test fails, naming the server', async () => {
      const { file, cases } = files(await freePort());
      const check = await runCli(['check', '--config', file]);
      expect(check.code).toBe(0);
      expect(check.stderr).toMatch(/^warning: function "weather\.mcp": cannot list the tools of https:\/\/127\.0\.0\.1:\d+\/mcp connect: .*ECONNREFUSED/);
      const test = await runCli(['test', cases, '--config', file]);
      expect(test.code).toBe(2);
      expect(test.stderr).toMatch(/\/functions\/5\/mcp\/server: cannot list the tools of https:\/\/127\.0\.0\.1:\d+\/mcp connect: .*ECONNREFUSED/);
    });
  });
});
