import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A child process of the stack, started and watched line by line. */
export interface StackProcess<T> {
  readonly name: string;
  readonly child: ChildProcess;
  /** What the readiness predicate returned (e.g. the bound address). */
  readonly ready: T;
  /** Everything the process wrote so far (stdout and stderr interleaved), for failure messages. */
  output(): string;
  /** Call `listener` for every later output line. */
  onLine(listener: (line: string) => void): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions<T> {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Returns a value once `line` shows the process is ready; undefined otherwise. */
  readonly ready: (line: string) => T | undefined;
  readonly timeoutMs?: number;
  /** Echo lines (all, or those the predicate picks) to this process's stderr, prefixed with the name. */
  readonly echo?: boolean | ((line: string) => boolean);
}

/**
 * Spawn a process and wait for its readiness line (never a sleep). Rejects with the collected
 * output if it exits first or does not get ready within `timeoutMs`.
 */
export function startProcess<T>(options: StartOptions<T>): Promise<StackProcess<T>> {
  const child = spawn(options.command, [...options.args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const listeners: Array<(line: string) => void> = [];
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return new Promise<StackProcess<T>>((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${options.name} ${why}\n--- output ---\n${lines.join('\n')}`));
    };
    const timer = setTimeout(() => fail(`not ready after ${options.timeoutMs ?? 30_000} ms`), options.timeoutMs ?? 30_000);
    child.once('error', (err) => fail(`failed to start: ${err.message}`));
    child.once('exit', (code, signal) => fail(`exited before ready (code ${code}, signal ${signal})`));
    const base: Omit<StackProcess<T>, 'ready'> = {
      name: options.name,
      child,
      output: () => lines.join('\n'),
      onLine: (listener) => void listeners.push(listener),
      async stop(graceMs = 3000) {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(killer);
      },
    };
    const onLine = (line: string) => {
      lines.push(line);
      const echo = typeof options.echo === 'function' ? options.echo(line) : options.echo === true;
      if (echo) process.stderr.write(`[${options.name}] ${line}\n`);
      for (const listener of listeners) listener(line);
      if (settled) return;
      const value = options.ready(line);
      if (value === undefined) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...base, ready: value });
    };
    for (const stream of [child.stdout, child.stderr]) {
      if (stream !== null) createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', onLine);
    }
  });
}

/** Parse `{"msg": <msg>, "address": "HOST:PORT"}` lines; returns the port. */
export function listeningPort(msg: string): (line: string) => number | undefined {
  return (line) => {
    if (!line.startsWith('{') || !line.includes(msg)) return undefined;
    try {
      const parsed = JSON.parse(line) as { msg?: unknown; address?: unknown };
      if (parsed.msg !== msg || typeof parsed.address !== 'string') return undefined;
      const port = Number(parsed.address.slice(parsed.address.lastIndexOf(':') + 1));
      return Number.isInteger(port) && port > 0 ? port : undefined;
    } catch {
      return undefined;
    }
  };
}
