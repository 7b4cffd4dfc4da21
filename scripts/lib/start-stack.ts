import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type DevIssuer, ensureDevIssuer } from './dev-issuer.js';
import { preparePki } from './dev-pki.js';
import type { StackProcess } from './process.js';
import { localLayout, renderCallguardConfig, renderEnvoyConfig, withCallguardEndpoints, withEnvoyCustomized } from './stack-config.js';
import { type EnvoyReady, type FunctionProcess, startCallguard, startEnvoy, startFunction } from './stack-processes.js';

/** A running local stack: Envoy + callguard (TLS, mTLS from Envoy) + the example function, on loopback. */
export interface RunningStack {
  readonly pkiDir: string;
  readonly issuer: DevIssuer;
  readonly envoyPort: number;
  readonly envoy: StackProcess<EnvoyReady>;
  /** The first replica (the only one unless `callguardReplicas` was more than 1). */
  readonly callguard: StackProcess<number>;
  /** Every replica, each an endpoint of Envoy's `callguard` cluster (round robin). */
  readonly callguards: readonly StackProcess<number>[];
  readonly fn: FunctionProcess;
  readonly envoyConfig: string;
  readonly callguardConfig: string;
  /** Replica i's decision log: `decisionLog` for the first, `decisionLog.i` for the others. */
  readonly decisionLogs: readonly string[];
  /** Stop every process (Envoy first). Safe to call twice. */
  stop(): Promise<void>;
}

export interface StackOptions {
  /**
   * Dev PKI directory: created (scripts/dev-pki.sh, dev issuer) when missing, renewed when due, then
   * checked: the stack refuses to start on a certificate it cannot use (scripts/lib/check-pki.ts).
   */
  readonly pkiDir: string;
  /** Where the rendered `envoy.yaml` and `callguard.yaml` go. */
  readonly configDir: string;
  /** 0 lets the OS choose (tests); the local stack uses DEFAULT_PORTS. */
  /** `callguardAdmin` absent: port 0 (replicas and parallel stacks each get their own). */
  readonly ports: { envoy: number; envoyAdmin: number; callguard: number; callguardAdmin?: number; function: number };
  readonly decisionLog: string;
  /** `function-wrong` presents a CA-signed certificate whose SAN is not `function`. */
  readonly functionCert?: 'function' | 'function-wrong';
  /** `pki`: what dev-pki.sh printed (a line per renewed certificate), prefixed `[pki]`. */
  readonly echo?: { pki?: boolean; callguard?: boolean; fn?: boolean; envoy?: boolean | ((line: string) => boolean) };
  /** callguard processes behind Envoy (default 1); each has its own config file and decision log. */
  readonly callguardReplicas?: number;
  /** Changes the callguard config rendered from examples/callguard.yaml (tests add identity sources and rules). */
  readonly customizeCallguard?: (config: Record<string, unknown>) => void;
  /** Changes the parsed Envoy config rendered from envoy/envoy.yaml, after the ports are filled in (tests). */
  readonly customizeEnvoy?: (config: Record<string, unknown>) => void;
  /** The clock the certificate check reads, in ms (default Date.now; tests: a time after expiry). */
  readonly now?: () => number;
}

/**
 * Renew and check the dev PKI, refusing to start (naming each unusable file) before any process runs.
 * Then start function and callguard, render Envoy's config with the ports they actually bound, then
 * Envoy. Each waits for its readiness line. On any failure, whatever started is stopped again.
 */
export async function startStack(options: StackOptions): Promise<RunningStack> {
  const renewals = preparePki(options.pkiDir, options.now);
  if (options.echo?.pki) for (const line of renewals) process.stderr.write(`[pki] ${line}\n`);
  const issuer = await ensureDevIssuer(options.pkiDir);
  const started: Array<StackProcess<unknown>> = [];
  const stop = async () => {
    for (const p of started.splice(0).reverse()) await p.stop();
  };
  try {
    const replicas = options.callguardReplicas ?? 1;
    if (!Number.isInteger(replicas) || replicas < 1) throw new Error(`callguardReplicas must be a positive integer, not ${replicas}`);
    if (replicas > 1 && options.ports.callguard !== 0) throw new Error('several callguard replicas need ports.callguard 0 (each gets its own port)');
    const decisionLogs = Array.from({ length: replicas }, (_, i) => (i === 0 ? options.decisionLog : `${options.decisionLog}.${i}`));
    const callguardConfigs = decisionLogs.map((_, i) => path.join(options.configDir, i === 0 ? 'callguard.yaml' : `callguard-${i}.yaml`));
    for (const [i, file] of callguardConfigs.entries()) {
      const layout = localLayout({ pkiDir: options.pkiDir, decisionLog: decisionLogs[i] as string, ports: options.ports });
      await writeFile(file, renderCallguardConfig(layout, options.customizeCallguard));
    }
    const [fnStart, ...callguardStarts] = await Promise.allSettled([
      startFunction({
        pkiDir: options.pkiDir,
        certName: options.functionCert ?? 'function',
        port: options.ports.function,
        echo: options.echo?.fn ?? false,
      }),
      ...callguardConfigs.map((config) => startCallguard({ config, echo: options.echo?.callguard ?? false })),
    ]);
    const starts = [fnStart, ...callguardStarts];
    for (const s of starts) if (s?.status === 'fulfilled') started.push(s.value);
    for (const s of starts) if (s?.status === 'rejected') throw s.reason;
    const fn = (fnStart as PromiseFulfilledResult<FunctionProcess>).value;
    const callguards = callguardStarts.map((s) => (s as PromiseFulfilledResult<StackProcess<number>>).value);
    const callguard = callguards[0] as StackProcess<number>;

    const envoyConfig = path.join(options.configDir, 'envoy.yaml');
    const ports = { ...options.ports, callguard: callguard.ready, function: fn.ready };
    const rendered = renderEnvoyConfig(localLayout({ pkiDir: options.pkiDir, decisionLog: options.decisionLog, ports }));
    const balanced =
      replicas === 1
        ? rendered
        : withCallguardEndpoints(
            rendered,
            callguards.map((c) => c.ready),
          );
    await writeFile(envoyConfig, options.customizeEnvoy ? withEnvoyCustomized(balanced, options.customizeEnvoy) : balanced);
    const envoy = await startEnvoy({ config: envoyConfig, echo: options.echo?.envoy ?? false });
    started.push(envoy);
    return {
      pkiDir: options.pkiDir,
      issuer,
      envoyPort: envoy.ready.listenPort,
      envoy,
      callguard,
      callguards,
      fn,
      envoyConfig,
      callguardConfig: callguardConfigs[0] as string,
      decisionLogs,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
