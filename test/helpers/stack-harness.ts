import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type RunningStack, startStack } from '../../scripts/lib/start-stack.js';
import { readDecisionLog, send } from './stack-http.js';

export { createPki } from '../../scripts/lib/dev-pki.js';

/** The repo's stack, as `npm run stack` runs it, in a temp dir on OS-chosen loopback ports. */
export interface TestStack extends RunningStack {
  readonly dir: string;
  readonly decisionLog: string;
}

/** Set E2E_ECHO=1 to see every process's output while a test runs. */
export async function startTestStack(
  options: {
    functionCert?: 'function' | 'function-wrong';
    /** Use this dev PKI directory (made beforehand, e.g. with extra or revoked certificates) instead of a new one. */
    pkiDir?: string;
    customizeCallguard?: (config: Record<string, unknown>, dir: string) => void;
    /** Changes the parsed Envoy config (e.g. the ext_authz filter's settings) before Envoy starts. */
    customizeEnvoy?: (config: Record<string, unknown>) => void;
    /** callguard processes behind Envoy's `callguard` cluster (default 1). */
    callguardReplicas?: number;
  } = {},
): Promise<TestStack> {
  const dir = await mkdtemp(path.join(tmpdir(), 'callguard-e2e-'));
  const decisionLog = path.join(dir, 'decisions.log');
  const echo = process.env['E2E_ECHO'] === '1';
  try {
    const stack = await startStack({
      pkiDir: options.pkiDir ?? path.join(dir, 'pki'),
      configDir: dir,
      ports: { envoy: 0, envoyAdmin: 0, callguard: 0, function: 0 },
      decisionLog,
      functionCert: options.functionCert ?? 'function',
      ...(options.callguardReplicas !== undefined ? { callguardReplicas: options.callguardReplicas } : {}),
      ...(options.customizeCallguard ? { customizeCallguard: (config: Record<string, unknown>) => options.customizeCallguard?.(config, dir) } : {}),
      ...(options.customizeEnvoy ? { customizeEnvoy: options.customizeEnvoy } : {}),
      echo: { callguard: echo, fn: echo, envoy: echo },
    });
    const running: TestStack = {
      ...stack,
      dir,
      decisionLog,
      async stop() {
        await stack.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
    await warmUp(running);
    return running;
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Readiness through the whole path, not just each process: the first calls of a cold stack pay for
 * TLS handshakes on every hop, JIT and the first token verification, and on a loaded 2-core machine
 * that can exceed Envoy's 200 ms ext_authz timeout (503). Probe with a verified token that callguard
 * denies (403: never reaches the function, so tests counting function hits are unaffected; 401 where
 * Envoy is set not to forward the token) until every replica has logged a warm-up decision, bounded.
 */
async function warmUp(stack: TestStack): Promise<void> {
  const token = await stack.issuer.mint({ subject: 'warm-up', groups: ['warm-up'], ttlSeconds: 60 });
  let last = 0;
  const warm = new Set<string>();
  const warmUpIds = new Set<string>();
  // Bounded by time, not attempts: a 503 from a timed-out Check can come back in 200 ms or at once.
  const deadline = Date.now() + 20_000; // inside the 60 s hook timeout, with the processes' start-up
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    const res = await send(stack, { path: '/orders/0', token, headers: { 'x-request-id': `warm-up-${attempt}` } });
    last = res.status;
    // A denial callguard decided carries its decision id; Envoy's own 503 (Check timed out) does not.
    if ((last === 403 || last === 401) && res.headers['x-callguard-decision-id'] !== undefined) {
      if (stack.decisionLogs.length === 1) return;
      warmUpIds.add(res.requestId);
      for (const log of stack.decisionLogs) {
        if ((await readDecisionLog(log)).some((d) => warmUpIds.has(d.requestId))) warm.add(log);
      }
      if (warm.size === stack.decisionLogs.length) return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`stack did not become ready within 20 s: last warm-up status ${last}, ${warm.size} of ${stack.decisionLogs.length} replicas answered`);
}
