import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { checkPki, describePkiProblems } from './check-pki.js';
import { REPO_ROOT } from './stack-config.js';

/**
 * Run scripts/dev-pki.sh, exactly as compose's `pki` service does: creates the dev PKI, renews what is due,
 * leaves the rest untouched. Returns what it printed: a line per renewed certificate, then `dev PKI ready …`.
 */
export function createPki(pkiDir: string): readonly string[] {
  const result = spawnSync('sh', [path.join(REPO_ROOT, 'scripts/dev-pki.sh'), pkiDir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`dev-pki.sh failed:\n${result.stdout}${result.stderr}${result.error?.message ?? ''}`);
  return result.stdout.split('\n').filter((line) => line !== '');
}

/**
 * The PKI a stack may start from: createPki, then checkPki at `now`. Throws, before anything starts, an
 * Error naming every unusable file; a failed renewal is added below (it says why the script could not fix
 * them), or thrown alone: the stack does not run on a PKI its renewal cannot keep up.
 */
export function preparePki(pkiDir: string, now: () => number = Date.now): readonly string[] {
  let printed: readonly string[] = [];
  let renewal: Error | undefined;
  try {
    printed = createPki(pkiDir);
  } catch (err) {
    renewal = err as Error;
  }
  const problems = checkPki(pkiDir, now);
  if (problems.length > 0) throw new Error([describePkiProblems(pkiDir, problems), ...(renewal ? [renewal.message] : [])].join('\n'));
  if (renewal) throw renewal;
  return printed;
}
