/**
 * `npm run bench:profile`: callguard under `node --cpu-prof` at saturation with the cached-token request
 * stream, then the top functions by self time (file:function, % of samples). Writes the .cpuprofile into
 * bench/results/tmp/ for Chrome DevTools or speedscope. Flags: --seconds N, --functions N, --top N,
 * --scenario cached|cache-miss|schema-violation.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { functionPath, writeBenchConfig } from './configs.js';
import { createFixtures } from './fixtures.js';
import { buildProtoset, findGhz, runLoadPoint } from './ghz.js';
import { writeGhzData } from './requests.js';
import { callguardCommand, launchServer } from './servers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Share of sampled time the thread was idle (waiting on I/O or for the CPU). */
  readonly idlePercent: number;
  /** Self time per `file:function:line`, % of busy time. */
  readonly selfByFunction: { frame: string; percent: number }[];
  /** Self time per source file, npm package or Node internal module, % of busy time. */
  readonly selfByModule: { frame: string; percent: number }[];
  /** Inclusive time of callguard's own functions, % of busy time: where the decision path goes. */
  readonly inclusiveSrc: { frame: string; percent: number }[];
}

function fileOf(url: string): string {
  if (url === '') return '(native)';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  return path.startsWith('/') ? relative(ROOT, path) : path;
}

/** callguard's own code: anything in the repo outside node_modules (src/ through tsx, or a built dist/). */
const isOwnCode = (file: string): boolean => !file.includes('node_modules') && !file.startsWith('node:') && file !== '(native)' && file !== '';

function moduleOf(file: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  return pkg?.[1] !== undefined ? `npm:${pkg[1]}` : file;
}

/** Summarizes a V8 .cpuprofile: self time by function and module, inclusive time of src/ functions. */
export function summarizeProfile(profile: CpuProfile, top: number): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const frame = (node: ProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    return `${fileOf(url)}:${functionName === '' ? '(anonymous)' : functionName}:${lineNumber + 1}`;
  };
  const self = new Map<string, number>();
  const modules = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, value: number) => map.set(key, (map.get(key) ?? 0) + value);
  let idle = 0;
  let busy = 0;
  profile.samples.forEach((nodeId, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    const node = byId.get(nodeId);
    if (node === undefined) return;
    if (node.callFrame.functionName === '(idle)') {
      idle += delta;
      return;
    }
    busy += delta;
    add(self, frame(node), delta);
    add(modules, node.callFrame.url === '' ? `(native) ${node.callFrame.functionName}` : moduleOf(fileOf(node.callFrame.url)), delta);
    const seen = new Set<string>();
    for (let cur: number | undefined = nodeId; cur !== undefined; cur = parentOf.get(cur)) {
      const ancestor = byId.get(cur);
      if (ancestor === undefined || !isOwnCode(fileOf(ancestor.callFrame.url))) continue;
      const key = frame(ancestor);
      if (!seen.has(key)) add(inclusive, key, delta);
      seen.add(key);
    }
  });
  const rank = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, micros]) => ({ frame: key, percent: Math.round((micros / busy) * 1000) / 10 }));
  return {
    idlePercent: Math.round((idle / (idle + busy)) * 1000) / 10,
    selfByFunction: rank(self),
    selfByModule: rank(modules),
    inclusiveSrc: rank(inclusive),
  };
}

function table(title: string, rows: { frame: string; percent: number }[]): string {
  return `\n${title}\n\n| % busy | frame |\n|---|---|\n${rows.map((r) => `| ${r.percent} | ${r.frame} |`).join('\n')}\n`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '8' },
      functions: { type: 'string', default: '10' },
      top: { type: 'string', default: '25' },
      scenario: { type: 'string', default: 'cached' },
    },
  });
  const ghz = findGhz(ROOT);
  const callguard = callguardCommand(ROOT);
  if (ghz === undefined || callguard === undefined) throw new Error('needs ghz (bench/install-tools.sh) and the callguard CLI');
  const workDir = join(ROOT, 'bench/results/tmp', `profile-${process.pid}`);
  const profileDir = join(workDir, 'cpuprofile');
  mkdirSync(profileDir, { recursive: true });
  const fixtures = await createFixtures(workDir);
  const functions = Number(values.functions);
  const missing = values.scenario === 'cache-miss';
  const config = writeBenchConfig(fixtures, 'profile', { functions, decisionLog: '/dev/null', ...(missing ? { tokenCacheSize: 256 } : {}) });
  const tokens = await fixtures.mintTokens(missing ? 4096 : 1);
  const body = values.scenario === 'schema-violation' ? fixtures.violatingBody : fixtures.validBody;
  const dataFile = join(workDir, 'profile.bin');
  writeGhzData(
    dataFile,
    tokens.map((token, sequence) => ({ path: functionPath(functions - 1), token, body, peerCertificate: fixtures.peerCertificate, sequence })),
  );
  const protoset = buildProtoset(ROOT, join(workDir, 'auth.binpb'));

  const server = await launchServer({
    command: process.execPath,
    args: ['--cpu-prof', '--cpu-prof-dir', profileDir, ...callguard.args, 'serve', '--config', config],
    readyMsg: 'callguard listening',
    cpus: '0',
    cwd: ROOT,
  });
  const target = { ghz, protoset, dataFile, address: server.address, cpus: '1', workDir, serverCpuSeconds: () => server.cpuSeconds() };
  await runLoadPoint(target, { rate: null, durationSeconds: 2, concurrency: 50, connections: 2 });
  const point = await runLoadPoint(target, { rate: null, durationSeconds: Number(values.seconds), concurrency: 50, connections: 2 });
  await server.stop();
  // One profile per thread (the tsx loader hooks run on their own): keep the busiest, the main thread.
  const profiles = readdirSync(profileDir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => ({ name, summary: summarizeProfile(JSON.parse(readFileSync(join(profileDir, name), 'utf8')) as CpuProfile, Number(values.top)) }))
    .sort((a, b) => a.summary.idlePercent - b.summary.idlePercent);
  const [main] = profiles;
  if (main === undefined) throw new Error(`no .cpuprofile written in ${profileDir}`);
  const { summary } = main;
  process.stdout.write(
    `${values.scenario}, ${functions} functions, ${callguard.runtime}: ${point.achievedRps} req/s, p99 ${point.latencyMs.p99} ms; idle ${summary.idlePercent} % of samples\nprofile: ${join(profileDir, main.name)}\n` +
      table('Self time by function', summary.selfByFunction) +
      table('Self time by module', summary.selfByModule) +
      table("Inclusive time of callguard's own functions", summary.inclusiveSrc),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench:profile: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
