import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPki } from '../../scripts/lib/check-pki.js';
import { REPO_ROOT } from '../../scripts/lib/stack-config.js';
import { copyLeaf, copyPkiForEachTest, fileHashes, installForeignLeaf, reissueLeaf, replaceCa, revokeLeaf } from '../helpers/pki-files.js';
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

  it('is idempotent: a second run keeps every file, byte for byte, and renews nothing', () => {
    const before = fileHashes(pkiDir);
    const mtime = statSync(path.join(pkiDir, 'ca.key')).mtimeMs;
    expect(createPki(pkiDir)).toEqual([expect.stringMatching(/^dev PKI ready in /)]);
    expect(fileHashes(pkiDir)).toEqual(before);
    expect(statSync(path.join(pkiDir, 'ca.key')).mtimeMs).toBe(mtime);
  });

  it('issues certificates for 30 days from a CA valid 365 days', () => {
    const days = (name: string) => {
      const cert = new X509Certificate(readFileSync(path.join(pkiDir, `${name}.crt`)));
      return (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
    };
    expect(days('ca')).toBe(365);
    for (const name of ['envoy', 'envoy-client', 'callguard', 'function', 'function-wrong', 'client']) expect(days(name), name).toBe(30);
  });

  it('keeps the CA key private to its owner', () => {
    expect(statSync(path.join(pkiDir, 'ca.key')).mode & 0o077).toBe(0);
  });
});

const SANS = {
  callguard: 'DNS:callguard,DNS:localhost,IP:127.0.0.1',
  function: 'DNS:function,DNS:localhost,IP:127.0.0.1',
};

describe('scripts/dev-pki.sh renews what cannot be kept', () => {
  const copyDir = copyPkiForEachTest(() => pkiDir);

  it.each([
    {
      name: 'a leaf that expires tomorrow',
      renewed: 'callguard',
      tamper: (dir: string) => reissueLeaf(dir, 'callguard', { days: 1, san: SANS.callguard }),
      why: /^expires on .+ GMT, within the 10-day renewal window$/,
    },
    {
      name: 'a leaf issued by another CA',
      renewed: 'function',
      tamper: (dir: string) => installForeignLeaf(dir, 'function', SANS.function),
      why: /^not issued by the current CA \(ca\.crt\)$/,
    },
    {
      name: 'a key that does not match its certificate',
      renewed: 'envoy',
      tamper: (dir: string) => copyFileSync(path.join(dir, 'client.key'), path.join(dir, 'envoy.key')),
      why: /^envoy\.key does not match the certificate$/,
    },
    {
      name: 'a leaf with other SANs',
      renewed: 'function',
      tamper: (dir: string) => copyLeaf(dir, 'function-wrong', 'function'),
      why: /^SANs are DNS:impostor,DNS:localhost,IP:127\.0\.0\.1, expected DNS:function,DNS:localhost,IP:127\.0\.0\.1$/,
    },
  ])('$name: reissues that certificate alone, saying why', ({ renewed, tamper, why }) => {
    const dir = copyDir();
    tamper(dir);
    const before = fileHashes(dir);
    const printed = createPki(dir);
    const prefix = `dev-pki: renewed ${dir}/${renewed}.crt: `;
    const renewals = printed.filter((line) => line.startsWith('dev-pki:'));
    expect(renewals).toHaveLength(1);
    expect(renewals[0]?.startsWith(prefix), renewals[0]).toBe(true);
    expect(renewals[0]?.slice(prefix.length)).toMatch(why);
    const after = fileHashes(dir);
    for (const file of Object.keys(before)) {
      if (file === `${renewed}.crt` || file === `${renewed}.key`) expect(after[file], file).not.toBe(before[file]);
      else expect(after[file], file).toBe(before[file]);
    }
    expect(checkPki(dir)).toEqual([]);
  });

  it('--revoke: ca.crl names the certificate, and a revoked stack certificate is reissued at once', () => {
    const dir = copyDir();
    const serial = execFileSync('openssl', ['x509', '-in', path.join(dir, 'callguard.crt'), '-noout', '-serial'], { encoding: 'utf8' })
      .trim()
      .slice(7);
    const before = fileHashes(dir);
    const printed = revokeLeaf(dir, 'callguard').trim().split('\n');
    expect(printed.slice(0, 2)).toEqual([
      `dev-pki: revoked ${dir}/callguard.crt (serial ${serial}); ${dir}/ca.crl updated`,
      `dev-pki: renewed ${dir}/callguard.crt: revoked by ca.crl`,
    ]);
    const crl = execFileSync('openssl', ['crl', '-in', path.join(dir, 'ca.crl'), '-noout', '-text'], { encoding: 'utf8' });
    expect(crl).toContain(`Serial Number: ${serial}`);
    const after = fileHashes(dir);
    for (const file of Object.keys(before)) {
      if (['callguard.crt', 'callguard.key', 'ca.crl'].includes(file)) expect(after[file], file).not.toBe(before[file]);
      else expect(after[file], file).toBe(before[file]);
    }
    expect(checkPki(dir)).toEqual([]);
    // The next start keeps all of it.
    expect(createPki(dir)).toEqual([expect.stringMatching(/^dev PKI ready in /)]);
  });

  it('--revoke refuses a certificate from another CA', () => {
    const dir = copyDir();
    installForeignLeaf(dir, 'function', SANS.function);
    expect(() => revokeLeaf(dir, 'function')).toThrow(/cannot revoke .*function\.crt: not issued by the current CA/);
  });

  it('a CA that expires within 30 days: a new CA and every leaf, each saying why', () => {
    const dir = copyDir();
    replaceCa(dir, 20);
    const before = fileHashes(dir);
    const printed = createPki(dir);
    expect(printed[0]).toMatch(/^dev-pki: renewed .+\/ca\.crt: expires on .+ GMT, within the 30-day renewal window; every certificate is reissued$/);
    expect(printed.filter((line) => line.endsWith('.crt: the CA was re-created'))).toHaveLength(6);
    const after = fileHashes(dir);
    for (const file of Object.keys(before)) expect(after[file], file).not.toBe(before[file]);
    expect(checkPki(dir)).toEqual([]);
  });
});

describe('no private key is committed', () => {
  it('git tracks (or would track) no key file and no PEM or JWK private key', () => {
    const tracked = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT, encoding: 'utf8' })
      .split('\0')
      .filter(Boolean);
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
