/**
 * Prepare a stack directory: dev PKI (scripts/dev-pki.sh, renewed when due, then checked), the dev
 * issuer's JWKS, and the rendered `envoy.yaml` + `callguard.yaml`. The compose `pki` service runs this
 * into the shared volume on each `up`; when it exits 1 (a certificate that cannot be used, each named),
 * nothing else starts (`service_completed_successfully`).
 *
 *   tsx scripts/render-stack.ts --layout compose [--out /stack]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureDevIssuer } from './lib/dev-issuer.js';
import { preparePki } from './lib/dev-pki.js';
import { COMPOSE_PATHS, composeLayout, writeStackConfigs } from './lib/stack-config.js';

const { values } = parseArgs({
  options: {
    layout: { type: 'string', default: 'compose' },
    out: { type: 'string', default: COMPOSE_PATHS.stackDir },
  },
  strict: true,
});
if (values.layout !== 'compose') throw new TypeError(`unknown --layout ${values.layout} (only: compose)`);

const pkiDir = path.join(values.out, 'pki');
try {
  for (const line of preparePki(pkiDir)) process.stderr.write(`${line}\n`);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}
await ensureDevIssuer(pkiDir);
const written = await writeStackConfigs(values.out, composeLayout({ pkiDir }));
process.stderr.write(`stack ready in ${values.out}: ${written.envoyConfig}, ${written.callguardConfig}\n`);
