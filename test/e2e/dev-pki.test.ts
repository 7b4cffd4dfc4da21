import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/lib/stack-config.js';
import { createPki } from '../helpers/stack-harness.js';

let pkiDir: string;
beforeAll(async () => {
  pkiDir = path.join(await mkdtemp(path.join(tmpdir(), 'callguard-pki-')), 'pki');
  createPki(pkiDir);
});
afterAll(async () => {
  await rm(path.dirname(pkiDir), { recursive: true, force: true });
});

function x509(name: string, ...args: string[]): string {
  return execFileSync('openssl', ['x509', '-in', path.join(pkiDir, `${name}.crt`), '-noout', ...args], { encoding: 'utf8' });
}

describe('scripts/dev-pki.sh', () => {
  it.each([
    { name: 'envoy', san: 'DNS:envoy, DNS:localhost, IP Address:127.0.0.1', eku: 'TLS Web Server Authentication' },
    { name: 'envoy-client', san: 'DNS:envoy-client, URI:spiffe://example.org/ns/edge/sa/envoy', eku: 'TLS Web Client Authentication' },
    { name: 'callguard', san: 'DNS:callguard, DNS:localhost, IP Address:127.0.0.1', eku: 'TLS Web Server Authentication' },
    { name: 'function', san: 'DNS:function, DNS:localhost, IP Address:127.0.0.1', eku: 'TLS Web Server Authentication' },
    { name: 'function-wrong', san: 'DNS:impostor, DNS:localhost, IP Address:127.0.0.1', eku: 'TLS Web Server Authentication' },
    { name: 'client', san: 'URI:spiffe://example.org/ns/default/sa/billing', eku: 'TLS Web Client Authentication' },
  ])('$name: signed by the dev CA, SAN $san', ({ name, san, eku }) => {
    const verified = execFileSync('openssl', ['verify', '-CAfile', path.join(pkiDir, 'ca.crt'), path.join(pkiDir, `${name}.crt`)], {
      encoding: 'utf8',
    });
    expect(verified).toContain(': OK');
    const text = x509(name, '-ext', 'subjectAltName,extendedKeyUsage');
    expect(text).toContain(san);
    expect(text).toContain(eku);
  });

  it('is idempotent: a second run keeps every file', () => {
    const before = x509('function', '-fingerprint', '-sha256');
    const mtime = statSync(path.join(pkiDir, 'ca.key')).mtimeMs;
    createPki(pkiDir);
    expect(x509('function', '-fingerprint', '-sha256')).toBe(before);
    expect(statSync(path.join(pkiDir, 'ca.key')).mtimeMs).toBe(mtime);
  });

  it('keeps the CA key private to its owner', () => {
    expect(statSync(path.join(pkiDir, 'ca.key')).mode & 0o077).toBe(0);
  });
});

describe('no private key is committed', () => {
  it('git tracks (or would track) no key file and no PEM or JWK private key', () => {
    const tracked = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
    expect(tracked.filter((f) => /\.(key|pem|p12|pfx)$|private/i.test(f))).toEqual([]);
    for (const file of tracked.filter((f) => /\.(json|ya?ml|ts|md|sh)$/.test(f))) {
      let text: string;
      try {
        text = readFileSync(path.join(REPO_ROOT, file), 'utf8');
      } catch {
        continue; // listed in the index but deleted in the worktree
      }
      expect(text, file).not.toMatch(/-----BEGIN (EC |RSA )?PRIVATE KEY-----/);
      expect(text, file).not.toMatch(/"d"\s*:\s*"[A-Za-z0-9_-]{20,}"/);
    }
  });

  it('.dev-pki/ is git-ignored', () => {
    expect(readFileSync(path.join(REPO_ROOT, '.gitignore'), 'utf8').split('\n')).toContain('.dev-pki/');
  });
});
