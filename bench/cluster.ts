/**
 * All-cores launcher: forks N copies of a gRPC server script as `node:cluster` workers that share one
 * listening socket. grpc-js 1.14 has no `grpc.so_reuseport` (that option is C-core only) and Node 20's `net`
 * has no `reusePort`, so the sharing is cluster's own: the primary accepts each connection and hands it to a
 * worker round-robin (the Linux default, `SCHED_RR`). A gRPC connection stays on one worker for its life,
 * so the load generator must open at least as many connections as there are workers.
 *
 * `node --import tsx bench/cluster.ts --workers N -- SCRIPT ARGS...` → stderr line
 * `{"msg":"cluster listening","address":"HOST:PORT","pids":[...]}` once every worker is listening.
 * Workers run SCRIPT unmodified (e.g. `dist/cli/main.js serve --config FILE` with `listen: 127.0.0.1:0`: the
 * first worker's port 0 picks the port, the others join the same handle).
 */
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';

function main(): void {
  const { values, positionals } = parseArgs({
    options: { workers: { type: 'string', default: String(availableParallelism()) } },
    allowPositionals: true,
  });
  const [script, ...args] = positionals;
  const workers = Number(values.workers);
  if (script === undefined || !Number.isInteger(workers) || workers < 1) {
    throw new TypeError('usage: cluster.ts --workers N -- SCRIPT [ARGS...]');
  }
  cluster.setupPrimary({ exec: script, args, execArgv: process.execArgv });
  const pids: number[] = [];
  let address = '';
  cluster.on('listening', (worker, bound) => {
    pids.push(worker.process.pid ?? 0);
    address = `${bound.address ?? '127.0.0.1'}:${bound.port}`;
    if (pids.length === workers) {
      process.stderr.write(`${JSON.stringify({ msg: 'cluster listening', address, pids })}\n`);
    }
  });
  let stopping = false;
  cluster.on('exit', (worker, code) => {
    if (!stopping) {
      process.stderr.write(`${JSON.stringify({ msg: 'cluster worker died', pid: worker.process.pid, code })}\n`);
      process.exit(1);
    }
  });
  // Workers are forked one at a time: the second must find the first's port-0 handle already bound.
  const forkNext = (): void => {
    const worker = cluster.fork();
    worker.once('listening', () => {
      if (Object.keys(cluster.workers ?? {}).length < workers) forkNext();
    });
  };
  forkNext();
  const shutdown = (): void => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
    setTimeout(() => process.exit(0), 3000).unref();
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    });
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main();
