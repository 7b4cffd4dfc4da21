import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A TCP port that was free a moment ago (the OS chose it), for servers that cannot listen on port 0 and report it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Resolves once every thread of `pid` is in the stopped state (SIGSTOP is delivered asynchronously). */
export async function untilStopped(pid: number, name: string): Promise<void> {
  const deadline = Date.now() + 5000;
  const stopped = (): boolean =>
    readdirSync(`/proc/${pid}/task`).every((task) => {
      const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
      return /^[Tt]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
    });
  while (!stopped()) {
    if (Date.now() > deadline) throw new Error(`${name} ${pid} did not stop within 5 s`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
