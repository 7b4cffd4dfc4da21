import type { Config } from '../config/types.js';
import type { ConfigProblem } from '../errors.js';

/**
 * The sections a reload cannot apply to a running process: what it listens on and with which
 * certificates (`server`, `admin`), where and how it records decisions (`decisionLog`: a hash chain
 * and its sink are one continuous thing), and where single-use credentials are remembered (`replay`:
 * a new store would forget every credential already used), and the upstream header names a denial
 * and an allow share (`upstream`). Everything else (identity sources, functions and their schemas,
 * payload limits) is rebuilt on reload.
 */
export const RESTART_ONLY = ['server', 'admin', 'decisionLog', 'replay', 'upstream'] as const satisfies readonly (keyof Config)[];

/** One problem per restart-only section that differs between the running config and the new one. */
export function restartOnlyChanges(running: Config, next: Config): ConfigProblem[] {
  return RESTART_ONLY.filter((key) => canonical(running[key]) !== canonical(next[key])).map((key) => ({
    file: next.file,
    path: `/${key}`,
    message: 'changed, and only a restart applies it: reload refused, the running config keeps serving',
  }));
}

/** JSON with object keys sorted: the same section written in another key order compares equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
