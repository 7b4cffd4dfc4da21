/**
 * Mint a bearer token from the dev issuer (creating its key pair and `jwks.json` on first use).
 *
 *   tsx scripts/mint-token.ts [--dir .dev-pki] [--sub alice] [--groups orders-writers,orders-readers]
 *                             [--aud callguard] [--ttl 3600]
 *   tsx scripts/mint-token.ts --init      # only make sure the key pair and jwks.json exist
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureDevIssuer } from './lib/dev-issuer.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: path.join(repoRoot, '.dev-pki') },
    sub: { type: 'string', default: 'alice' },
    groups: { type: 'string', default: 'orders-writers' },
    aud: { type: 'string' },
    ttl: { type: 'string', default: '3600' },
    init: { type: 'boolean', default: false },
  },
  strict: true,
});

const issuer = await ensureDevIssuer(values.dir);
if (values.init) {
  process.stderr.write(`dev issuer ready: ${issuer.jwksPath} (kid ${issuer.kid})\n`);
} else {
  const ttlSeconds = Number(values.ttl);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) throw new TypeError('--ttl must be a positive integer');
  const groups = values.groups
    .split(',')
    .map((g) => g.trim())
    .filter((g) => g !== '');
  const token = await issuer.mint({
    subject: values.sub,
    groups,
    ttlSeconds,
    ...(values.aud !== undefined ? { audience: values.aud } : {}),
  });
  process.stdout.write(`${token}\n`);
}
