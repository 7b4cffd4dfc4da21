import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type DevIssuer, ensureDevIssuer } from './dev-issuer.js';
import type { StackProcess } from './process.js';
import { localLayout, REPO_ROOT, renderCallguardConfig, renderEnvoyConfig } from './stack-config.js';
import { type EnvoyReady, type FunctionProcess, startCallguard, startEnvoy, startFunction } from './stack-processes.js';

/** A running local stack: Envoy + callguard (TLS, mTLS from Envoy) + the example function, on loopback. */
export interface RunningStack {
  readonly pkiDir: string;
  readonly issuer: DevIssuer;
  readonly envoyPort: number;
  readonly envoy: StackProcess<EnvoyReady>;
  readonly callguard: StackProcess<number>;
  readonly fn: FunctionProcess;
  readonly envoyConfig: string;
  readonly callguardConfig: string;
  /** Stop every process (Envoy first). Safe to call twice. */
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Dev PKI directory; created (scripts/dev-pki.sh, dev issuer) when missing. */
  readonly pkiDir: string;
  /** Where the rendered `envoy.yaml` and `callguard.yaml` go. */
  readonly configDir: string;
  /** 0 lets the OS choose (tests); the local stack uses DEFAULT_PORTS. */
  readonly ports: { envoy: number; envoyAdmin: number; callguard: number; function: number };
  readonly decisionLog: string;
  /** `function-wrong` presents a CA-signed certificate whose SAN is not `function`. */
  readonly functionCert?: 'function' | 'function-wrong';
  readonly echo?: { callguard?: boolean; fn?: boolean; envoy?: boolean | ((line: string) => boolean) };
  /** Changes the callguard config rendered from examples/callguard.yaml (tests add identity sources and rules). */
  readonly customizeCallguard?: (config: Record<string, unknown>) => void;
}

/** Generate the dev PKI with openssl, exactly as compose's `pki` service does. Idempotent. */
export function createPki(pkiDir: string): void {
  const result = spawnSync('sh', [path.join(REPO_ROOT, 'scripts/dev-pki.sh'), pkiDir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`dev-pki.sh failed:\n${result.stdout}${result.stderr}`);
}

/**
 * Start function and callguard, then render Envoy's config with the ports they actually bound, then
 * Envoy. Each waits for its readiness line. On any failure, whatever started is stopped again.
 */
export async function startStack(options: StackOptions): Promise<RunningStack> {
  createPki(options.pkiDir);
  const issuer = await ensureDevIssuer(options.pkiDir);
  const started: Array<StackProcess<unknown>> = [];
  const stop = async () => {
    for (const p of started.splice(0).reverse()) await p.stop();
  };
  try {
    const callguardConfig = path.join(options.configDir, 'callguard.yaml');
    const firstLayout = localLayout({ pkiDir: options.pkiDir, decisionLog: options.decisionLog, ports: options.ports });
    await writeFile(callguardConfig, renderCallguardConfig(firstLayout, options.customizeCallguard));
    const [fnStart, callguardStart] = await Promise.allSettled([
      startFunction({
        pkiDir: options.pkiDir,
        certName: options.functionCert ?? 'function',
        port: options.ports.function,
        echo: options.echo?.fn ?? false,
      }),
      startCallguard({ config: callguardConfig, echo: options.echo?.callguard ?? false }),
    ]);
    for (const s of [fnStart, callguardStart]) if (s.status === 'fulfilled') started.push(s.value);
    if (fnStart.status === 'rejected') throw fnStart.reason;
    if (callguardStart.status === 'rejected') throw callguardStart.reason;
    const fn = fnStart.value;
    const callguard = callguardStart.value;

    const envoyConfig = path.join(options.configDir, 'envoy.yaml');
    const ports = { ...options.ports, callguard: callguard.ready, function: fn.ready };
    await writeFile(envoyConfig, renderEnvoyConfig(localLayout({ pkiDir: options.pkiDir, decisionLog: options.decisionLog, ports })));
    const envoy = await startEnvoy({ config: envoyConfig, echo: options.echo?.envoy ?? false });
    started.push(envoy);
    return {
      pkiDir: options.pkiDir,
      issuer,
      envoyPort: envoy.ready.listenPort,
      envoy,
      callguard,
      fn,
      envoyConfig,
      callguardConfig,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
