import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, untilStopped } from './local-process.js';

/**
 * A real redis-server (Debian's package) on a port the OS chose, nothing persisted (`--save ''`,
 * `--appendonly no`), listening on 127.0.0.1 only; its working directory is a temp directory.
 */
export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:PORT/0` */
  readonly url: string;
  /** With `tls`: the TLS port (`rediss://127.0.0.1:TLSPORT/0`). */
  readonly tlsPort?: number;
  /** One command on a connection of its own (not the client under test); resolves with the reply. */
  command(...args: (string | number)[]): Promise<unknown>;
  /** SIGSTOP; resolves once every thread of redis-server is stopped (/proc/PID/task/N/stat state T). */
  pause(): Promise<void>;
  /** SIGCONT. */
  resume(): void;
  /** SIGKILL; resolves once it exited. */
  kill(): Promise<void>;
  /** Starts it again on the same port(s); resolves once it answers PING. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface RedisServerOptions {
  /** `requirepass`: clients must AUTH. */
  readonly password?: string;
  /** Also listen with TLS on a second port (no client certificate asked for). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile: string };
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'callguard-redis-'));
  const port = await freePort();
  const tlsPort = options.tls === undefined ? undefined : await freePort();
  const args = ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1', '--dir', dir];
  if (options.password !== undefined) args.push('--requirepass', options.password);
  if (options.tls !== undefined && tlsPort !== undefined) {
    const { certFile, keyFile, caFile } = options.tls;
    args.push('--tls-port', String(tlsPort), '--tls-cert-file', certFile, '--tls-key-file', keyFile, '--tls-ca-cert-file', caFile, '--tls-auth-clients', 'no');
  }
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const proc = spawn('redis-server', args, { stdio: 'ignore' });
    child = proc;
    await untilAnswering(port, proc);
  };
  /** Sends `signal` and waits for the exit; SIGCONT after it, so a stopped server acts on a SIGTERM. */
  const end = async (signal: 'SIGKILL' | 'SIGTERM'): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exit = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill(signal);
    proc.kill('SIGCONT');
    await exit;
  };
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    ...(tlsPort !== undefined ? { tlsPort } : {}),
    async command(...command) {
      const admin = new Redis({
        host: '127.0.0.1',
        port,
        ...(options.password !== undefined ? { password: options.password } : {}),
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      admin.on('error', () => {});
      try {
        await admin.connect();
        return await admin.call(String(command[0]), ...command.slice(1));
      } finally {
        admin.disconnect();
      }
    },
    async pause() {
      const proc = child;
      if (proc?.pid === undefined) throw new Error('redis-server is not running');
      proc.kill('SIGSTOP');
      await untilStopped(proc.pid, 'redis-server');
    },
    resume: () => child?.kill('SIGCONT'),
    kill: () => end('SIGKILL'),
    restart: launch,
    async stop() {
      await end('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether a PING on `port` gets an answer (`+PONG`, or `-NOAUTH` from a server that wants a password first). */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('data', (reply) => {
      socket.destroy();
      resolve(/^(\+PONG|-NOAUTH)/.test(reply.toString('latin1')));
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

/** Resolves once redis-server answers PING on `port`; rejects if `proc` exits first or after 10 s. */
async function untilAnswering(port: number, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`redis-server exited (${proc.exitCode ?? proc.signalCode}) before answering`);
    if (await pings(port)) return;
    if (Date.now() > deadline) throw new Error(`redis-server does not answer PING on ${port} after 10 s`);
    // Not a sleep for a fixed time: the next probe of the readiness signal, 20 ms on.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
