/**
 * Starts the servers under test as child processes and waits for their readiness line on stderr (never a
 * sleep). Reads their CPU time and resident memory from /proc, summed over cluster workers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface RunningServer {
  readonly address: string;
  /** The process and, for a cluster, every worker. */
  readonly pids: readonly number[];
  /** User + system CPU seconds consumed so far by all `pids`. */
  cpuSeconds(): number;
  /** Sum of VmRSS over `pids`, in bytes. */
  rssBytes(): number;
  /** Last stderr lines (for error reports). */
  stderrTail(): string;
  stop(): Promise<void>;
}

export interface LaunchSpec {
  readonly command: string;
  readonly args: readonly string[];
  /** The `msg` of the JSON readiness line that carries `address`. */
  readonly readyMsg: string;
  /** `taskset -c` CPU list, or undefined to let the scheduler place it. */
  readonly cpus?: string | undefined;
  readonly cwd: string;
  readonly timeoutMs?: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function procStatTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of proc(5))
  } catch {
    return 0;
  }
}

function procRssBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? 0 : Number(match[1]) * 1024;
  } catch {
    return 0;
  }
}

/** Spawns `spec` and resolves once it printed `{"msg": spec.readyMsg, "address": …}` on stderr. */
export function launchServer(spec: LaunchSpec): Promise<RunningServer> {
  const [command, args] = spec.cpus === undefined ? [spec.command, spec.args] : ['taskset', ['-c', spec.cpus, spec.command, ...spec.args]];
  const child: ChildProcess = spawn(command, args, { cwd: spec.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  const lines: string[] = [];
  let pending = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`no "${spec.readyMsg}" line within ${spec.timeoutMs ?? 60_000} ms`)), spec.timeoutMs ?? 60_000);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${error.message}\n--- stderr ---\n${lines.slice(-20).join('\n')}`));
    };
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`server exited with ${code} before it was ready`)));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
        if (lines.push(line) > 200) lines.shift();
        const ready = parseReady(line, spec.readyMsg);
        if (ready !== undefined) {
          clearTimeout(timer);
          child.removeAllListeners('exit');
          const pids = ready.pids ?? [child.pid ?? 0];
          const all = ready.pids === undefined ? pids : [child.pid ?? 0, ...pids];
          resolve(running(child, ready.address, all, lines));
        }
      }
    });
  });
}

function parseReady(line: string, readyMsg: string): { address: string; pids?: number[] } | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const record = JSON.parse(line) as { msg?: unknown; address?: unknown; pids?: unknown };
    if (record.msg !== readyMsg || typeof record.address !== 'string') return undefined;
    return Array.isArray(record.pids) ? { address: record.address, pids: record.pids as number[] } : { address: record.address };
  } catch {
    return undefined;
  }
}

function running(child: ChildProcess, address: string, pids: readonly number[], lines: string[]): RunningServer {
  return {
    address,
    pids,
    cpuSeconds: () => pids.reduce((sum, pid) => sum + procStatTicks(pid), 0) / TICKS_PER_SECOND,
    rssBytes: () => pids.reduce((sum, pid) => sum + procRssBytes(pid), 0),
    stderrTail: () => lines.slice(-20).join('\n'),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const force = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** The grpc-go no-op server for the `go-floor` scenario: `$GO_NOOP`, then bench/.tools/bin/go-noop (install-tools.sh). */
export function findGoNoop(root: string): string | undefined {
  return [process.env.GO_NOOP, join(root, 'bench/.tools/bin/go-noop')].find((c) => c !== undefined && existsSync(c));
}

/**
 * How to run callguard: `$CALLGUARD_MAIN` (a built `cli/main.js` elsewhere), else the built CLI when `dist/`
 * exists (what users run), else the sources through tsx.
 */
export function callguardCommand(root: string): { args: string[]; runtime: string } | undefined {
  const override = process.env.CALLGUARD_MAIN;
  if (override !== undefined && existsSync(override)) return { args: [override], runtime: `node ${relative(root, override)}` };
  const built = join(root, 'dist/cli/main.js');
  if (existsSync(built)) return { args: [built], runtime: 'node dist/cli/main.js' };
  const source = join(root, 'src/cli/main.ts');
  if (existsSync(source)) return { args: ['--import', 'tsx', source], runtime: 'node --import tsx src/cli/main.ts' };
  return undefined;
}
