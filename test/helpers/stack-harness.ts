import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type DevIssuer, ensureDevIssuer } from '../../scripts/lib/dev-issuer.js';
import type { StackProcess } from '../../scripts/lib/process.js';
import { localLayout, REPO_ROOT, renderCallguardConfig, renderEnvoyConfig } from '../../scripts/lib/stack-config.js';
import {
  type EnvoyReady,
  type FunctionProcess,
  startCallguard,
  startEnvoy,
  startFunction,
} from '../../scripts/lib/stack-processes.js';

/** Envoy + callguard (TLS, mTLS from Envoy) + the example function, all on OS-chosen loopback ports. */
export interface TestStack {
  readonly dir: string;
  readonly pkiDir: string;
  readonly issuer: DevIssuer;
  readonly envoyPort: number;
  readonly decisionLog: string;
  readonly envoy: StackProcess<EnvoyReady>;
  readonly callguard: StackProcess<number>;
  readonly fn: FunctionProcess;
  /** Stop every process and delete the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

/** Generate the dev PKI (openssl) into `pkiDir`, exactly as `npm run stack` and compose do. */
export function createPki(pkiDir: string): void {
  const result = spawnSync('sh', [path.join(REPO_ROOT, 'scripts/dev-pki.sh'), pkiDir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`dev-pki.sh failed:\n${result.stdout}${result.stderr}`);
}

export async function startTestStack(options: { functionCert?: 'function' | 'function-wrong' } = {}): Promise<TestStack> {
  const dir = await mkdtemp(path.join(tmpdir(), 'callguard-e2e-'));
  const pkiDir = path.join(dir, 'pki');
  createPki(pkiDir);
  const issuer = await ensureDevIssuer(pkiDir);
  const decisionLog = path.join(dir, 'decisions.log');
  const echo = process.env['E2E_ECHO'] === '1';

  const started: Array<StackProcess<unknown>> = [];
  const stop = async () => {
    await Promise.all(started.splice(0).map((p) => p.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const firstLayout = localLayout({ pkiDir, decisionLog, ports: { envoy: 0, envoyAdmin: 0, callguard: 0, function: 0 } });
    const callguardConfig = path.join(dir, 'callguard.yaml');
    await writeFile(callguardConfig, renderCallguardConfig(firstLayout));
    const [callguardStart, fnStart] = await Promise.allSettled([
      startCallguard({ config: callguardConfig, echo }),
      startFunction({ pkiDir, certName: options.functionCert ?? 'function', port: 0, echo }),
    ]);
    for (const s of [callguardStart, fnStart]) if (s.status === 'fulfilled') started.push(s.value);
    if (callguardStart.status === 'rejected') throw callguardStart.reason;
    if (fnStart.status === 'rejected') throw fnStart.reason;
    const callguard = callguardStart.value;
    const fn = fnStart.value;
    const layout = localLayout({
      pkiDir,
      decisionLog,
      ports: { envoy: 0, envoyAdmin: 0, callguard: callguard.ready, function: fn.ready },
    });
    const envoyConfig = path.join(dir, 'envoy.yaml');
    await writeFile(envoyConfig, renderEnvoyConfig(layout));
    const envoy = await startEnvoy({ config: envoyConfig, echo });
    started.push(envoy);
    return { dir, pkiDir, issuer, envoyPort: envoy.ready.listenPort, decisionLog, envoy, callguard, fn, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
