/**
 * Prepare a stack directory: dev PKI (scripts/dev-pki.sh), the dev issuer's JWKS, and the rendered
 * `envoy.yaml` + `callguard.yaml`. The compose `pki` service runs this once into the shared volume.
 *
 *   tsx scripts/render-stack.ts --layout compose [--out /stack]
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureDevIssuer } from './lib/dev-issuer.js';
import { COMPOSE_PATHS, composeLayout, REPO_ROOT, writeStackConfigs } from './lib/stack-config.js';

const { values } = parseArgs({
  options: {
    layout: { type: 'string', default: 'compose' },
    out: { type: 'string', default: COMPOSE_PATHS.stackDir },
  },
  strict: true,
});
if (values.layout !== 'compose') throw new TypeError(`unknown --layout ${values.layout} (only: compose)`);

const pkiDir = path.join(values.out, 'pki');
const pki = spawnSync('sh', [path.join(REPO_ROOT, 'scripts/dev-pki.sh'), pkiDir], { stdio: 'inherit' });
if (pki.status !== 0) process.exit(pki.status ?? 1);
await ensureDevIssuer(pkiDir);
const written = await writeStackConfigs(values.out, composeLayout({ pkiDir }));
process.stderr.write(`stack ready in ${values.out}: ${written.envoyConfig}, ${written.callguardConfig}\n`);
