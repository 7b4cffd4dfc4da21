import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPki, describePkiProblems } from '../../scripts/lib/check-pki.js';
import { preparePki } from '../../scripts/lib/dev-pki.js';
import { startStack } from '../../scripts/lib/start-stack.js';
import { copyLeaf, copyPkiForEachTest, installForeignLeaf, issueLeaf } from '../helpers/pki-files.js';
import { createPki } from '../helpers/stack-harness.js';

const DAY = 86_400_000;
const FUNCTION_SANS = 'DNS:function,DNS:localhost,IP:127.0.0.1';
let healthy: string;
let callguard: X509Certificate;
beforeAll(async () => {
  healthy = path.join(await mkdtemp(path.join(tmpdir(), 'callguard-pki-check-')), 'pki');
  createPki(healthy);
  callguard = new X509Certificate(readFileSync(path.join(healthy, 'callguard.crt')));
});
afterAll(async () => {
  await rm(path.dirname(healthy), { recursive: true, force: true });
});

const copyDir = copyPkiForEachTest(() => healthy);
const utc = (date: string) => `${new Date(date).toISOString().slice(0, 19).replace('T', ' ')} UTC`;

describe('checkPki', () => {
  it('finds nothing wrong with the PKI dev-pki.sh made', () => {
    expect(checkPki(copyDir())).toEqual([]);
  });

  it.each([
    {
      name: 'an expired certificate',
      now: () => Date.parse(callguard.validTo) + DAY,
      expected: () => ({ file: 'callguard.crt', problem: `expired on ${utc(callguard.validTo)}` }),
    },
    {
      name: 'a certificate not valid yet',
      now: () => Date.parse(callguard.validFrom) - DAY,
      expected: () => ({ file: 'callguard.crt', problem: `not valid before ${utc(callguard.validFrom)}` }),
    },
    {
      name: 'a key that does not match',
      tamper: (dir: string) => copyFileSync(path.join(dir, 'client.key'), path.join(dir, 'callguard.key')),
      expected: () => ({ file: 'callguard.key', problem: 'does not match callguard.crt' }),
    },
    {
      name: 'a certificate without the SAN its peer pins',
      tamper: (dir: string) => copyLeaf(dir, 'function-wrong', 'function'),
      expected: () => ({ file: 'function.crt', problem: 'no SAN DNS:function (has DNS:impostor, DNS:localhost, IP Address:127.0.0.1)' }),
    },
    {
      name: 'a certificate from another CA',
      tamper: (dir: string) => installForeignLeaf(dir, 'callguard', 'DNS:callguard'),
      expected: () => ({ file: 'callguard.crt', problem: 'not issued by the dev CA (ca.crt)' }),
    },
    {
      name: 'a function certificate signed with SHA-1 (Envoy 1.40 would accept it)',
      tamper: (dir: string) => issueLeaf(dir, 'function', { days: 20, san: FUNCTION_SANS, digest: 'sha1' }),
      expected: () => ({ file: 'function.crt', problem: 'signed with ecdsa-with-SHA1: the TLS profile refuses SHA-1 and MD5 signatures' }),
    },
    {
      name: 'an RSA key where Envoy checks the certificate (every handshake would fail)',
      tamper: (dir: string) => issueLeaf(dir, 'callguard', { days: 20, san: 'DNS:callguard,DNS:localhost,IP:127.0.0.1', key: 'rsa-2048' }),
      expected: () => ({ file: 'callguard.crt', problem: "RSA-2048 key: Envoy's clusters accept only ECDSA keys (P-256, P-384)" }),
    },
    {
      name: 'an RSA-1024 client certificate',
      tamper: (dir: string) => issueLeaf(dir, 'client', { days: 20, san: 'URI:spiffe://example.org/ns/default/sa/billing', key: 'rsa-1024' }),
      expected: () => ({ file: 'client.crt', problem: 'RSA-1024 key: the TLS profile needs at least 2048 bits' }),
    },
    {
      name: 'a missing key',
      tamper: (dir: string) => rmSync(path.join(dir, 'envoy.key')),
      expected: () => ({ file: 'envoy.key', problem: 'missing' }),
    },
  ])('refuses $name, naming the file and the problem', ({ now, tamper, expected }) => {
    const dir = copyDir();
    tamper?.(dir);
    const problems = checkPki(dir, now);
    expect(problems).toContainEqual(expected());
    // A tampered file is the only one named; a clock moved past expiry names every certificate.
    if (now === undefined) expect(problems).toEqual([expected()]);
    const { file, problem } = expected();
    expect(describePkiProblems(dir, problems).split('\n')).toContain(`  ${dir}/${file}: ${problem}`);
  });
});

describe('preparePki', () => {
  it('refuses a PKI dev-pki.sh cannot fix, with its problems first and the failed renewal below', () => {
    const dir = copyDir();
    rmSync(path.join(dir, 'callguard.crt'));
    mkdirSync(path.join(dir, 'callguard.crt')); // stands for a read-only file: the script cannot write it
    let message = '';
    try {
      preparePki(dir);
    } catch (err) {
      message = (err as Error).message;
    }
    const lines = message.split('\n');
    expect(lines[0]).toBe(`refusing to start: the dev PKI in ${dir} cannot be used`);
    expect(lines[1]).toMatch(new RegExp(`^  ${dir}/callguard\\.crt: cannot be read \\(EISDIR`));
    expect(message).toContain(`dev-pki: cannot renew ${dir}/callguard.crt (callguard.crt is missing)`);
  });
});

describe('startStack', () => {
  it('refuses to start on a certificate the check rejects, before it renders or starts anything', async () => {
    const dir = copyDir();
    const configDir = path.dirname(dir);
    const before = readdirSync(configDir);
    const afterExpiry = () => Date.parse(callguard.validTo) + DAY;
    await expect(
      startStack({
        pkiDir: dir,
        configDir,
        ports: { envoy: 0, envoyAdmin: 0, callguard: 0, function: 0 },
        decisionLog: path.join(configDir, 'decisions.log'),
        now: afterExpiry,
      }),
    ).rejects.toThrow(`\n  ${dir}/callguard.crt: expired on ${utc(callguard.validTo)}\n`);
    // No config rendered, no decision log opened: startStack renders both before it starts any process.
    expect(readdirSync(configDir)).toEqual(before);
  });
});
