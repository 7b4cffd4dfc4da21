import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type RunningStack, startStack } from '../../scripts/lib/start-stack.js';

export { createPki } from '../../scripts/lib/start-stack.js';

/** The repo's stack, as `npm run stack` runs it, in a temp dir on OS-chosen loopback ports. */
export interface TestStack extends RunningStack {
  readonly dir: string;
  readonly decisionLog: string;
}

/** Set E2E_ECHO=1 to see every process's output while a test runs. */
export async function startTestStack(options: { functionCert?: 'function' | 'function-wrong' } = {}): Promise<TestStack> {
  const dir = await mkdtemp(path.join(tmpdir(), 'callguard-e2e-'));
  const decisionLog = path.join(dir, 'decisions.log');
  const echo = process.env['E2E_ECHO'] === '1';
  try {
    const stack = await startStack({
      pkiDir: path.join(dir, 'pki'),
      configDir: dir,
      ports: { envoy: 0, envoyAdmin: 0, callguard: 0, function: 0 },
      decisionLog,
      functionCert: options.functionCert ?? 'function',
      echo: { callguard: echo, fn: echo, envoy: echo },
    });
    return {
      ...stack,
      dir,
      decisionLog,
      async stop() {
        await stack.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
