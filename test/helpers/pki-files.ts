import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { REPO_ROOT } from '../../scripts/lib/stack-config.js';
import { createTestCerts } from './test-certs.js';

// Test-only changes to a dev PKI directory (scripts/dev-pki.sh layout), made with the openssl CLI.

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Key types `issueLeaf` makes (openssl `-newkey` arguments). */
const KEYS = {
  'ec-p256': EC,
  'rsa-1024': ['-newkey', 'rsa:1024', '-nodes'],
  'rsa-2048': ['-newkey', 'rsa:2048', '-nodes'],
} as const;

export interface LeafOptions {
  readonly days: number;
  /** openssl syntax: `DNS:function,IP:127.0.0.1`. */
  readonly san: string;
  readonly key?: keyof typeof KEYS;
  /** The digest the dev CA signs with (dev-pki.sh: always sha256). */
  readonly digest?: 'sha256' | 'sha1';
  /** Default: random (openssl's), so revoking one test certificate revokes no other. */
  readonly serial?: number;
}

/** Write NAME.crt and NAME.key: a new key and a certificate from the directory's CA (ca.crt, ca.key). */
export function issueLeaf(dir: string, name: string, options: LeafOptions): void {
  writeFileSync(path.join(dir, `${name}.test-ext`), `subjectAltName=${options.san}\n`);
  openssl(dir, 'req', '-new', ...KEYS[options.key ?? 'ec-p256'], '-keyout', `${name}.key`, '-out', `${name}.test-csr`, '-subj', `/CN=${name}`);
  const serial = options.serial === undefined ? ['-CAcreateserial', '-CAserial', `${name}.test-srl`] : ['-set_serial', String(options.serial)];
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
    ...serial,
    `-${options.digest ?? 'sha256'}`,
    '-days',
    String(options.days),
    '-extfile',
    `${name}.test-ext`,
    '-out',
    `${name}.crt`,
  );
  for (const scratch of [`${name}.test-ext`, `${name}.test-csr`, `${name}.test-srl`]) rmSync(path.join(dir, scratch), { force: true });
}

/** Replace NAME.crt and NAME.key with a new key and a certificate from the directory's CA, valid `days`. */
export function reissueLeaf(dir: string, name: string, options: { days: number; san: string }): void {
  issueLeaf(dir, name, { ...options, serial: 4242 });
}

/** Revoke NAME.crt the way an operator would (`sh scripts/dev-pki.sh DIR --revoke DIR/NAME.crt`): ca.crl names it. */
export function revokeLeaf(dir: string, name: string): string {
  return execFileSync('sh', [path.join(REPO_ROOT, 'scripts/dev-pki.sh'), dir, '--revoke', path.join(dir, `${name}.crt`)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
