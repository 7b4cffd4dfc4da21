import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { createTestCerts } from './test-certs.js';

// Test-only changes to a dev PKI directory (scripts/dev-pki.sh layout), made with the openssl CLI.

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Replace NAME.crt and NAME.key with a new key and a certificate from the directory's CA, valid `days`. */
export function reissueLeaf(dir: string, name: string, options: { days: number; san: string }): void {
  writeFileSync(path.join(dir, `${name}.test-ext`), `subjectAltName=${options.san}\n`);
  openssl(dir, 'req', '-new', ...EC, '-keyout', `${name}.key`, '-out', `${name}.test-csr`, '-subj', `/CN=${name}`);
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    `${name}.test-csr`,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-set_serial',
    '4242',
    '-days',
    String(options.days),
    '-extfile',
    `${name}.test-ext`,
    '-out',
    `${name}.crt`,
  );
  for (const scratch of [`${name}.test-ext`, `${name}.test-csr`]) rmSync(path.join(dir, scratch));
}

/** Replace ca.crt and ca.key with a new self-signed CA valid `days` (the leaves keep the old issuer). */
export function replaceCa(dir: string, days: number): void {
  openssl(dir, 'req', '-x509', '-new', ...EC, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', String(days), '-subj', '/CN=test CA');
}

/** SHA-256 of every file in `dir`, by name: equal maps mean byte-for-byte equal directories. */
export function fileHashes(dir: string): Record<string, string> {
  const hashes: Record<string, string> = {};
  for (const name of readdirSync(dir).sort())
    hashes[name] = createHash('sha256')
      .update(readFileSync(path.join(dir, name)))
      .digest('hex');
  return hashes;
}

/** Registers hooks giving each test a fresh copy of the PKI at `source()` (made once per suite); returns its path. */
export function copyPkiForEachTest(source: () => string): () => string {
  let dir = '';
  beforeEach(async () => {
    dir = path.join(await mkdtemp(path.join(tmpdir(), 'callguard-pki-copy-')), 'pki');
    await cp(source(), dir, { recursive: true });
  });
  afterEach(async () => {
    await rm(path.dirname(dir), { recursive: true, force: true });
  });
  return () => dir;
}

/** Copy FROM.crt and FROM.key over TO.crt and TO.key. */
export function copyLeaf(dir: string, from: string, to: string): void {
  for (const ext of ['crt', 'key']) copyFileSync(path.join(dir, `${from}.${ext}`), path.join(dir, `${to}.${ext}`));
}

/** Replace NAME.crt and NAME.key with a leaf (SAN `san`, openssl syntax) from a throwaway CA, not the dev CA. */
export function installForeignLeaf(dir: string, name: string, san: string): void {
  const other = createTestCerts();
  try {
    const leaf = other.leaf(name, san);
    copyFileSync(leaf.certFile, path.join(dir, `${name}.crt`));
    copyFileSync(leaf.keyFile, path.join(dir, `${name}.key`));
  } finally {
    other.cleanup();
  }
}
