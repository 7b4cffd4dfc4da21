import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
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
function config(port: number, change: (mcp: Json) => void = () => {}, changeFunctions: (functions: Json[]) => void = () => {}): Config {
  return parseConfig(configYaml(port, change, changeFunctions), join(certs.dir, 'callguard.yaml'));
}

function configYaml(port: number, change: (mcp: Json) => void = () => {}, changeFunctions: (functions: Json[]) => void = () => {}): string {
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
  changeFunctions(parsed['functions'] as Json[]);
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

/** A config change: these `mcp.server` settings. */
const setServer =
  (values: Json) =>
  (mcp: Json): void =>
    void Object.assign(mcp['server'] as Json, values);

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
    const reader = await issuer.mint({ claims: { sub: 'bob', groups: ['orders-readers'] } });
    const other = summarize(
      decodeCheckResponse(await callguard.handleCheck(envoyCheckBytes({ method: 'GET', path: '/orders/7', headers: { authorization: `Bearer ${reader}` } }))),
    );
    expect(other).toMatchObject({ allow: true });
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

  it('a reload while the server is down applies (a revocation elsewhere is not held back); the function keeps the tools it listed, with a warning', async () => {
    const server = await weather();
    const { callguard, events } = await start(config(server.port));
    await server.close();
    const revoked = config(
      server.port,
      () => {},
      (functions) => {
        (functions[1] as Json)['allow'] = [{ issuer: 'corp', subjects: ['nobody'] }];
      },
    );
    expect(await callguard.reload(revoked)).toMatchObject({ changed: true });
    expect(events.at(-1)).toMatchObject({
      level: 'warn',
      msg: expect.stringMatching(/^function "weather\.mcp": cannot list the tools of .*; the tools it listed at the last load stay in force$/),
    });
    expect(callguard.toolServers()).toMatchObject([{ function: 'weather.mcp', listed: true }]);
    expect(await callTool(callguard, 'get_weather', { city: 'Oslo' })).toMatchObject({ allow: true });
    expect(await callTool(callguard, 'get_weather', { city: 'Oslo', days: 30 })).toMatchObject({ allow: false, problem: { code: 'ERR_BODY_SCHEMA' } });
  });

  it.each([
    {
      name: 'a CA the server certificate does not chain to',
      change: (mcp: Json) => {
        const other = createTestCerts();
        writeFileSync(join(other.dir, 'ca.crt'), other.caPem);
        (mcp['server'] as Json)['ca'] = join(other.dir, 'ca.crt');
        running.push({ close: async () => rmSync(other.dir, { recursive: true, force: true }) });
      },
      why: /certificate/i,
    },
    {
      name: 'a server name its certificate does not carry',
      change: setServer({ serverName: 'impostor.internal' }),
      why: /impostor\.internal/,
    },
  ])('a reload to server settings that cannot list ($name): applied, those tools 503 until listed, the reason reported', async ({ change, why }) => {
    const server = await weather();
    const { callguard, events } = await start(config(server.port));
    await callguard.reload(config(server.port, change));
    expect(callguard.toolServers()).toEqual([expect.objectContaining({ function: 'weather.mcp', listed: false, why: expect.stringMatching(why) })]);
    expect(events.at(-1)).toMatchObject({ level: 'warn', msg: expect.stringContaining('are refused (ERR_MCP_TOOLS_UNAVAILABLE) until a retry lists them') });
    expect(await callTool(callguard, 'get_weather', { city: 'Oslo' })).toMatchObject({
      allow: false,
      status: 503,
      problem: { code: 'ERR_MCP_TOOLS_UNAVAILABLE' },
    });
  });

  it('a CA replaced in place and a reload withdraw trust: the old listing is not kept, those tools are 503', async () => {
    const server = await weather();
    const caFile = join(certs.dir, 'ca-swapped.crt');
    writeFileSync(caFile, certs.caPem);
    const { callguard } = await start(config(server.port, setServer({ ca: caFile })));
    expect(await callTool(callguard, 'get_weather', { city: 'Oslo' })).toMatchObject({ allow: true });
    const other = createTestCerts();
    running.push({ close: async () => rmSync(other.dir, { recursive: true, force: true }) });
    writeFileSync(caFile, other.caPem); // the server's certificate no longer verifies
    await callguard.reload(config(server.port, setServer({ ca: caFile })));
    expect(callguard.toolServers()).toEqual([expect.objectContaining({ listed: false })]);
    expect(await callTool(callguard, 'get_weather', { city: 'Oslo' })).toMatchObject({
      allow: false,
      status: 503,
      problem: { code: 'ERR_MCP_TOOLS_UNAVAILABLE' },
    });
  });

  it('the reason reported is the latest: down at start, then a reload to a server name the certificate does not carry', async () => {
    const port = await freePort();
    const { callguard } = await start(config(port, setServer({ retryMs: 60_000 })));
    expect(callguard.toolServers()).toEqual([expect.objectContaining({ listed: false, why: expect.stringContaining('ECONNREFUSED') })]);
    await weather(port);
    await callguard.reload(config(port, setServer({ retryMs: 60_000, serverName: 'impostor.internal' })));
    expect(callguard.toolServers()).toEqual([expect.objectContaining({ listed: false, why: expect.stringMatching(/impostor\.internal/) })]);
  });

  it('a reload refused: a configured tool the server does not list (a config error naming the tool)', async () => {
    const server = await weather();
    const { callguard } = await start(config(server.port));
    const err = await callguard
      .reload(config(server.port, (mcp) => (mcp['tools'] as Json[]).push({ name: 'get_forecast', allow: [] })))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toContainEqual(
      expect.objectContaining({
        path: '/functions/5/mcp/tools/2/name',
        message: expect.stringMatching(/does not list tool "get_forecast" \(it lists: get_weather, delete_city\)/),
      }),
    );
  });

  it('TLS files that cannot be read are a config error at start (no retry can fix them)', async () => {
    const err = await start(config(await freePort(), setServer({ ca: join(certs.dir, 'missing-ca.crt') }))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      expect.objectContaining({
        path: '/functions/5/mcp/server',
        message: expect.stringMatching(/^cannot list the tools of .* tls-files: .*missing-ca\.crt.*ENOENT/),
      }),
    ]);
  });

  it('a retry adds what was listed and nothing else: a schema file edited since start is not applied by it', async () => {
    const port = await freePort();
    const { callguard } = await start(config(port));
    const writer = await issuer.mint({ claims: { sub: 'alice', groups: ['orders-writers'] } });
    const order = JSON.stringify({ orderId: 'ord-1', quantity: 2, card: { number: '4111111111111111' } });
    const createOrder = async () =>
      summarize(
        decodeCheckResponse(
          await callguard.handleCheck(
            envoyCheckBytes({
              method: 'POST',
              path: '/orders',
              headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' },
              body: order,
            }),
          ),
        ),
      );
    expect(await createOrder()).toMatchObject({ allow: true });
    // The operator edits a schema without reloading (yet): only a reload may apply it.
    writeFileSync(join(certs.dir, 'orders.json'), JSON.stringify({ type: 'object', maxProperties: 0 }));
    try {
      await weather(port);
      await until(
        'the retry to list the tools',
        () => callguard.toolServers()[0]?.listed,
        (listed) => listed === true,
      );
      expect(await createOrder()).toMatchObject({ allow: true });
    } finally {
      writeFileSync(join(certs.dir, 'orders.json'), JSON.stringify(ORDERS_SCHEMA));
    }
  });

  it('close() ends a listing in flight: the hanging server sees its connection closed', async () => {
    const port = await freePort();
    // A timeout far beyond the wait below: only close() can end the listing in time.
    const { callguard } = await start(config(port, setServer({ timeoutMs: 60_000 })));
    // Now the port accepts connections and never answers: the retry's listing hangs there.
    const sockets = new Set<Socket>();
    const hanging: Server = createServer((socket) => {
      sockets.add(socket);
      socket.resume(); // read (and drop) the ClientHello, so the client's FIN is seen
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => hanging.listen(port, '127.0.0.1', resolve));
    running.push({ close: () => new Promise((resolve) => hanging.close(() => resolve())) });
    await until(
      'the retry to connect',
      () => sockets.size,
      (n) => n > 0,
    );
    await callguard.close();
    await until(
      'the listing connection to close',
      () => sockets.size,
      (n) => n === 0,
      2000,
    );
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
