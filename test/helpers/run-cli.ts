import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

/** The CLI's sources, run as `node --import tsx` (no build needed). */
export const CLI = join(import.meta.dirname, '../../src/cli/main.ts');

/** `callguard <args>` run to its exit: its code and everything it printed. */
export async function runCli(
  args: readonly string[],
  options: { readonly cwd?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const [code] = await once(child, 'exit');
  return { code: code as number | null, stdout, stderr };
}
