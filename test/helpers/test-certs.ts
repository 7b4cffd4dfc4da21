import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Makes a throwaway CA and leaf certificates with chosen SANs (openssl CLI; test-only). */
export function createTestCerts() {
  const dir = mkdtempSync(join(tmpdir(), 'callguard-certs-'));
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=test-ca',
  );
  let serial = 1;
  return {
    dir,
    caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    /** Returns the PEM of a leaf signed by the CA with the given subjectAltName (openssl syntax). */
    leaf(name: string, san: string | undefined): { pem: string; certFile: string; keyFile: string } {
      const ext = join(dir, `${name}.ext`);
      writeFileSync(ext, san ? `subjectAltName=${san}\n` : 'basicConstraints=CA:FALSE\n');
      run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
      run(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-set_serial',
        String(serial++),
        '-days',
        '2',
        '-out',
        `${name}.pem`,
        '-extfile',
        ext,
      );
      return { pem: readFileSync(join(dir, `${name}.pem`), 'utf8'), certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`) };
    },
    /** A self-signed CA certificate that also carries a SAN (a CA must never pass as a workload). */
    caWithSan(san: string): { pem: string } {
      writeFileSync(join(dir, 'ca-san.ext'), `basicConstraints=critical,CA:TRUE\nsubjectAltName=${san}\n`);
      run(
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        'ca-san.key',
        '-out',
        'ca-san.pem',
        '-days',
        '2',
        '-subj',
        '/CN=ca-san',
        '-extensions',
        'v3_ca',
        '-addext',
        `subjectAltName=${san}`,
      );
      return { pem: readFileSync(join(dir, 'ca-san.pem'), 'utf8') };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
