import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createKey } from '../../src/identity/api-key/key-operations.js';
import { writeKeysFile } from '../../src/identity/api-key/keys-file.js';
import { describeWithEnvoy } from '../helpers/stack-envoy.js';
import { startTestStack, type TestStack } from '../helpers/stack-harness.js';
import { type LoggedDecision, readDecisions, send } from '../helpers/stack-http.js';

type Json = Record<string, unknown>;
type Shape = 'headers' | 'header_map' | 'listed' | 'unlisted';

const ORDER = { sku: 'ABC-123', quantity: 2, card: { number: '4111111111111111', expiry: '12/30' } };

/** What the README says to list under `allowed_headers`: credentials, content headers, correlation id, the identity prefix. */
const LISTED = [
  { exact: 'authorization' },
  { exact: 'x-api-key' },
  { exact: 'dpop' },
  { exact: 'content-type' },
  { exact: 'content-encoding' },
  { exact: 'x-request-id' },
  { prefix: 'x-callguard-' },
];

/**
 * Issue 11, item 5: the repo's stack with the ext_authz filter set up as other deployments do. Envoy 1.40
 * sends `header_map` (raw bytes, one entry a line) with `encode_raw_headers`, and only the listed headers
 * (no pseudo-headers) with `allowed_headers`: the same calls get the same answers and decision codes as
 * with the defaults, and a bearer token Envoy was not told to forward reads as no credential.
 */
const stacks: { name: string; shape: Shape; settings: Json }[] = [
  { name: 'default ext_authz settings', shape: 'headers', settings: {} },
  { name: 'encode_raw_headers: true', shape: 'header_map', settings: { encode_raw_headers: true } },
  { name: 'allowed_headers listing authorization, x-api-key and dpop', shape: 'listed', settings: { allowed_headers: { patterns: LISTED } } },
  {
    name: 'allowed_headers without authorization',
    shape: 'unlisted',
    settings: { allowed_headers: { patterns: LISTED.filter((p) => p.exact !== 'authorization') } },
  },
];

/** [status, code] per shape; shapes not named get `all`. `null` code: allowed (the function answered). */
type Expected = { all: [number, string | null] } & Partial<Record<Shape, [number, string | null]>>;
interface Call {
  readonly name: string;
  readonly send: (stack: TestStack, credentials: Credentials) => ReturnType<typeof send>;
  readonly expected: Expected;
}
interface Credentials {
  readonly writer: string;
  readonly reader: string;
  readonly apiKey: string;
}

const MISSING: [number, string] = [401, 'ERR_CREDENTIAL_MISSING'];
const calls: Call[] = [
  {
    name: 'an allowed token (and a spoofed identity header)',
    send: (stack, c) =>
      send(stack, { method: 'POST', path: '/orders', token: c.writer, headers: { 'x-callguard-roles': 'admin' }, body: JSON.stringify(ORDER) }),
    expected: { all: [200, null], unlisted: MISSING },
  },
  { name: 'no token', send: (stack) => send(stack, { method: 'POST', path: '/orders', body: JSON.stringify(ORDER) }), expected: { all: MISSING } },
  {
    name: 'a token of the wrong group',
    send: (stack, c) => send(stack, { method: 'POST', path: '/orders', token: c.reader, body: JSON.stringify(ORDER) }),
    expected: { all: [403, 'ERR_NOT_PERMITTED'], unlisted: MISSING },
  },
  {
    name: 'a body failing the schema',
    send: (stack, c) => send(stack, { method: 'POST', path: '/orders', token: c.writer, body: JSON.stringify({ ...ORDER, quantity: 0 }) }),
    expected: { all: [400, 'ERR_BODY_SCHEMA'], unlisted: MISSING },
  },
  {
    name: 'two Authorization lines',
    send: (stack, c) => send(stack, { path: '/orders/7', headers: { authorization: [`Bearer ${c.reader}`, `Bearer ${c.reader}`] } }),
    expected: { all: [401, 'ERR_CREDENTIAL_AMBIGUOUS'], unlisted: MISSING },
  },
  {
    name: 'an API key in x-api-key',
    send: (stack, c) => send(stack, { path: '/orders/7', headers: { 'x-api-key': c.apiKey } }),
    expected: { all: [200, null] },
  },
  {
    // Envoy turns the byte into '!' in `headers`; in `header_map` it arrives raw and is refused, not guessed at.
    name: 'a latin-1 byte in another header',
    send: (stack, c) => send(stack, { path: '/orders/7', token: c.reader, headers: { 'x-display-name': 'Zo\u00eb' } }),
    expected: { all: [200, null], header_map: [400, 'ERR_HEADER_INVALID'], unlisted: MISSING },
  },
];

/** The ext_authz filter's typed_config in the rendered Envoy config. */
function extAuthz(config: Json): Json {
  const listener = (config['static_resources'] as { listeners: Json[] }).listeners[0] as {
    filter_chains: { filters: { typed_config: { http_filters: Json[] } }[] }[];
  };
  const filters = listener.filter_chains[0]?.filters[0]?.typed_config.http_filters ?? [];
  const filter = filters.find((f) => f['name'] === 'envoy.filters.http.ext_authz');
  if (filter === undefined) throw new Error('the rendered Envoy config has no ext_authz filter');
  return filter['typed_config'] as Json;
}

/** The decision line with this id, once written (the log is asynchronous; polled, bounded). */
async function lineFor(stack: TestStack, decisionId: string): Promise<LoggedDecision | undefined> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const line = (await readDecisions(stack)).find((d) => d.decisionId === decisionId);
    if (line !== undefined || Date.now() > deadline) return line;
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const variant of stacks) {
  describeWithEnvoy(`e2e: Envoy's request shapes, ${variant.name}`, () => {
    let stack: TestStack;
    let credentials: Credentials;

    beforeAll(async () => {
      let apiKey = '';
      stack = await startTestStack({
        customizeEnvoy: (config) => Object.assign(extAuthz(config), variant.settings),
        customizeCallguard: (config, dir) => {
          const now = Date.now();
          const created = createKey({ version: 1, keys: [] }, { owner: 'ci-reports', expiresAtMs: now + 86_400_000, groups: ['orders-readers'] }, now, 90);
          apiKey = created.key;
          writeKeysFile(path.join(dir, 'keys.json'), created.file);
          (config['identity'] as Json)['apiKeys'] = { file: path.join(dir, 'keys.json'), header: 'x-api-key' };
        },
      });
      credentials = {
        writer: await stack.issuer.mint({ subject: 'alice', groups: ['orders-writers'] }),
        reader: await stack.issuer.mint({ subject: 'bob', groups: ['orders-readers'] }),
        apiKey,
      };
    });
    afterAll(async () => {
      await stack?.stop();
    });

    it.each(calls)('$name', async ({ send: call, expected }) => {
      const [status, code] = expected[variant.shape] ?? expected.all;
      const res = await call(stack, credentials);
      const answered = res.status === 200 ? null : res.json()['code'];
      expect([res.status, answered]).toEqual([status, code]);
      const decisionId =
        status === 200 ? res.json<{ identity: Record<string, string> }>().identity['x-callguard-decision-id'] : res.headers['x-callguard-decision-id'];
      const line = await lineFor(stack, String(decisionId));
      expect(line).toMatchObject({ outcome: status === 200 ? 'allow' : 'deny', status, code });
      if (status === 200) {
        const seen = res.json<{ identity: Record<string, string>; authorizationHeaderPresent: boolean }>();
        expect(seen.authorizationHeaderPresent).toBe(false);
        expect(seen.identity['x-callguard-roles']).toBeUndefined();
        // x-request-id is forwarded in every variant: the line correlates with Envoy's access log.
        expect(line?.requestId).toBe(res.requestId);
      }
    });
  });
}
