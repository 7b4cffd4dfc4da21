import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeNeeding } from './describe-needing.js';
import { freePort, untilStopped } from './local-process.js';

/**
 * A real rsyslog receiving RELP over TLS (imrelp), writing each message's MSG part alone, one a line,
 * to a file. Everything lives in a temp directory (config, pid file, work directory, output); nothing
 * touches the system's syslog.
 */
export interface Rsyslog {
  readonly port: number;
  readonly output: string;
  /** Lines of the output file so far (each the MSG of one received message). */
  lines(): string[];
  /** SIGSTOP; resolves once every thread of rsyslogd is stopped (/proc/PID/task/N/stat state T). */
  pause(): Promise<void>;
  /** SIGCONT. */
  resume(): void;
  kill(): Promise<void>;
  /** Starts rsyslog again with the same config and port; resolves once it accepts connections. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface RsyslogTls {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** Require a client certificate with this name (imrelp `tls.authMode="name"`); without it, no client certificate is asked for. */
  readonly permittedPeer?: string;
}

/** Why rsyslog with TLS-capable imrelp cannot run here, or undefined when it can (a config validation run). */
export function rsyslogMissing(): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'callguard-rsyslog-probe-'));
  try {
    const conf = join(dir, 'rsyslog.conf');
    writeFileSync(conf, `global(workDirectory="${dir}")\nmodule(load="imrelp" tls.tlslib="openssl")\naction(type="omfile" file="${join(dir, 'out')}")\n`);
    const run = spawnSync('rsyslogd', ['-N1', '-f', conf], { encoding: 'utf8', env: withSbin() });
    if (run.error !== undefined) return `rsyslogd not found (${(run.error as NodeJS.ErrnoException).code})`;
    if (run.status !== 0) return `rsyslogd cannot load imrelp: ${(run.stderr || run.stdout).trim().split('\n').slice(-1)[0]}`;
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `describe` for suites that need rsyslog: skipped on a workstation without it, FAILS in CI (`CI` set). */
export function describeWithRsyslog(name: string, body: () => void): void {
  describeNeeding({ missing: rsyslogMissing(), install: 'apt-get install rsyslog rsyslog-relp' }, name, body);
}

/** Starts rsyslog on a port the OS chose as free; resolves once it accepts TCP connections. */
export async function startRsyslog(tls: RsyslogTls): Promise<Rsyslog> {
  const dir = mkdtempSync(join(tmpdir(), 'callguard-rsyslog-'));
  mkdirSync(join(dir, 'work'));
  const port = await freePort();
  const output = join(dir, 'received.log');
  const conf = join(dir, 'rsyslog.conf');
  const auth = tls.permittedPeer === undefined ? '' : ` tls.authMode="name" tls.permittedPeer=["${tls.permittedPeer}"]`;
  writeFileSync(
    conf,
    [
      `global(workDirectory="${join(dir, 'work')}" maxMessageSize="64k")`,
      // OpenSSL: a client certificate is asked for only with tls.authMode (librelp's GnuTLS driver always requires one).
      'module(load="imrelp" tls.tlslib="openssl")',
      'template(name="msgOnly" type="string" string="%msg%\\n")',
      // oversizeMode="abort": a message above maxMessageSize ends the session instead of being truncated and acknowledged.
      `input(type="imrelp" port="${port}" ruleset="relp" oversizeMode="abort" tls="on" tls.cacert="${tls.caFile}" tls.mycert="${tls.certFile}" tls.myprivkey="${tls.keyFile}"${auth})`,
      `ruleset(name="relp") { action(type="omfile" file="${output}" template="msgOnly") }`,
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const proc = spawn('rsyslogd', ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], { stdio: 'ignore', env: withSbin() });
    child = proc;
    await untilListening(port, proc);
  };
  /**
   * Sends `signal` and waits for the exit. SIGCONT only after it: a stopped process then acts on the
   * SIGTERM, while a SIGKILL ends it before it could answer anything it had received.
   */
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
    output,
    lines: () => (existsSync(output) ? readFileSync(output, 'utf8').split('\n').slice(0, -1) : []),
    async pause() {
      const proc = child;
      if (proc?.pid === undefined) throw new Error('rsyslogd is not running');
      proc.kill('SIGSTOP');
      await untilStopped(proc.pid, 'rsyslogd');
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

/** Resolves once `port` accepts a TCP connection; rejects if `proc` exits first or after 10 s. */
async function untilListening(port: number, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`rsyslogd exited (${proc.exitCode ?? proc.signalCode}) before listening`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`rsyslogd is not listening on ${port} after 10 s`);
    // Not a sleep for a fixed time: the next probe of the readiness signal, 20 ms on.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** rsyslogd lives in /usr/sbin, which a non-root PATH may lack. */
function withSbin(): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${process.env['PATH'] ?? ''}:/usr/sbin:/sbin` };
}
