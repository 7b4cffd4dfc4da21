import { execFile, spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../../scripts/lib/stack-config.js';
import type { LoggedDecision } from './stack-http.js';

/** The repo's compose file: commands run elsewhere (a scratch directory) still act on this project. */
export const COMPOSE_FILE = path.join(REPO_ROOT, 'docker-compose.yml');

/** The base images the compose file uses: its defaults unless the environment names others (CI's stand-ins). */
export const BASE_IMAGES = [process.env['NODE_IMAGE'] ?? 'node:20-slim', process.env['ENVOY_IMAGE'] ?? 'envoyproxy/envoy:v1.40.0'];

const ok = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore', timeout: 20_000 }).status === 0;

/** What this machine lacks to run the compose stack (undefined: nothing). */
function composeMissing(): string | undefined {
  if (!ok('docker', ['info'])) return 'no Docker engine answers';
  if (!ok('docker', ['compose', 'version'])) return 'the docker compose plugin is missing';
  const absent = BASE_IMAGES.filter((image) => !ok('docker', ['image', 'inspect', image]));
  if (absent.length > 0) return `base image(s) not on this engine: ${absent.join(', ')}`;
  return undefined;
}

export const needsCompose = {
  missing: composeMissing(),
  install: 'eval "$(bash scripts/docker-engine.sh)" as root: engine, compose plugin and stand-in base images',
};

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command with COMPOSE_FILE set to the repo's compose file; resolves with its exit code and output. */
export function run(cmd: string, args: readonly string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      [...args],
      { cwd: options.cwd ?? REPO_ROOT, env: { ...process.env, COMPOSE_FILE }, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
    );
    child.stdin?.end();
  });
}

/** `docker compose ARGS` for the repo's project; fails with compose's own output. */
export async function compose(args: readonly string[], timeoutMs = 120_000): Promise<string> {
  const result = await run('docker', ['compose', ...args], { timeoutMs });
  if (result.code !== 0) throw new Error(`docker compose ${args.join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** A decision line from `docker compose logs callguard`, with the replica that wrote it (`callguard-2`). */
export interface ReplicaDecision extends LoggedDecision {
  readonly replica: string;
}

/** The decision lines in `docker compose logs` output (other lines, such as the ops log, are skipped). */
export function parseComposeDecisions(logs: string): ReplicaDecision[] {
  const decisions: ReplicaDecision[] = [];
  for (const line of logs.split('\n')) {
    const match = /^(\S+)\s+\|\s(\{.*\})\s*$/.exec(line);
    if (match === null) continue;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(match[2] ?? '') as Record<string, unknown>;
    } catch {
      continue;
    }
    if (typeof record['decisionId'] === 'string' && typeof record['requestId'] === 'string') {
      decisions.push({ ...(record as unknown as LoggedDecision), replica: match[1] ?? '' });
    }
  }
  return decisions;
}

/** The callguard decision lines so far, from every replica, running or stopped. */
export async function composeDecisions(): Promise<ReplicaDecision[]> {
  return parseComposeDecisions(await compose(['logs', '--no-color', 'callguard']));
}

/** The IPv4 address of a running container on its compose network. */
export async function containerAddress(container: string): Promise<string> {
  const result = await run('docker', ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', container]);
  const address = result.stdout.trim();
  if (result.code !== 0 || !/^\d+\.\d+\.\d+\.\d+$/.test(address)) throw new Error(`no address for ${container}: ${result.stderr}${result.stdout}`);
  return address;
}
