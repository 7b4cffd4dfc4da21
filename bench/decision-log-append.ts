/**
 * In-process CPU cost of the decision log's append path alone (format, queue, group-commit write,
 * commit callbacks), in `written` mode over a discarding stream: what every Check pays to be
 * logged, without the rest of the Check. `npm run build`, then `tsx bench/decision-log-append.ts [N] [root]`:
 * it measures the built modules (`dist/`, what the CLI runs), not the TypeScript sources; `root`
 * (default: this checkout) points at another built checkout to compare a change against it, one
 * process per side, alternated (one process holding both would share their JIT feedback).
 */
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';

const N = Number(process.argv.slice(2).find((arg) => /^\d+$/.test(arg)) ?? 200000);
const root = process.argv.slice(2).find((arg) => !/^\d+$/.test(arg)) ?? new URL('..', import.meta.url).pathname;
const built = (file: string): string => pathToFileURL(`${root}/dist/decision-log/${file}`).href;
const { createDecisionLog } = (await import(built('create-decision-log.js'))) as typeof import('../src/decision-log/create-decision-log.js');
const { streamSink } = (await import(built('log-sink.js'))) as typeof import('../src/decision-log/log-sink.js');
type DecisionRecord = import('../src/decision-log/decision-record.js').DecisionRecord;

/** Lines a turn of the event loop: calls decided together share one write. */
const BATCH = 32;
const record = (i: number) =>
  ({
    decisionId: `0192f0c4-7b1e-7c3a-9d2e-${String(i).padStart(12, '0')}`,
    outcome: 'allow',
    status: 200,
    code: null,
    function: 'orders.create',
    principal: { type: 'jwt', subject: 'user-42', issuer: 'https://issuer.example', clientId: 'web' },
    request: { method: 'POST', path: '/orders', host: 'api.example', requestId: `req-${i}` },
    durationUs: 180,
  }) as unknown as DecisionRecord;
const records = Array.from({ length: 256 }, (_, i) => record(i));
const turn = () => new Promise((resolve) => setImmediate(resolve));

const log = createDecisionLog(streamSink(new Writable({ write: (_c, _e, done) => done() })), {
  durability: 'written',
  maxPendingBytes: 64 << 20,
  maxWriteMs: 60_000,
});
let committed = 0;
const done = (ok: boolean) => {
  if (ok) committed++;
};

async function measure(n: number): Promise<number> {
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i += BATCH) {
    for (let j = 0; j < BATCH; j++) if (!log.append(records[(i + j) % 256] as DecisionRecord, done)) throw new Error('log refused a line');
    await turn();
  }
  await turn();
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / n;
}
await measure(20000);
// Best of 5: the machine is shared and noisy; the minimum is the least-disturbed estimate.
let best = Number.POSITIVE_INFINITY;
for (let round = 0; round < 5; round++) best = Math.min(best, await measure(N));
console.log(`append best of 5: ${best.toFixed(3)} µs/line CPU (${committed} lines committed)`);
await log.close();
