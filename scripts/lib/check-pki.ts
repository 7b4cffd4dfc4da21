import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ENVOY_SPIFFE_ID } from './stack-config.js';

/** A certificate of the dev PKI (`NAME.crt` + `NAME.key`) and the SAN the peer that checks it pins. */
export interface StackCertificate {
  readonly name: string;
  /** In Node's `subjectAltName` spelling: `DNS:callguard`, `URI:spiffe://…`, `IP Address:127.0.0.1`. */
  readonly san: string;
}

/** Every leaf scripts/dev-pki.sh issues, each with the one SAN its consumer relies on. */
export const STACK_CERTIFICATES: readonly StackCertificate[] = Object.freeze([
  // Callers verify https://localhost:8443 (npm run stack, compose's published port).
  { name: 'envoy', san: 'DNS:localhost' },
  // callguard (server.tls.clientSans) and the function (--envoy-san) pin it.
  { name: 'envoy-client', san: `URI:${ENVOY_SPIFFE_ID}` },
  // Envoy's match_typed_subject_alt_names on the `callguard` and `function` clusters (envoy/envoy.yaml).
  { name: 'callguard', san: 'DNS:callguard' },
  { name: 'function', san: 'DNS:function' },
  // The impostor the e2e tests start instead of the function: from the CA, without `function`.
  { name: 'function-wrong', san: 'DNS:impostor' },
  // The example mTLS workload (examples/callguard.yaml trusts example.org).
  { name: 'client', san: 'URI:spiffe://example.org/ns/default/sa/billing' },
]);

/** One reason a file of the PKI cannot be used; `file` is relative to the PKI directory. */
export interface PkiProblem {
  readonly file: string;
  readonly problem: string;
}

/**
 * Check the dev PKI in `dir` the way the TLS peers of the stack will: every certificate within its
 * validity at `now`, issued by `ca.crt`, matching its key, carrying the SAN its peer pins. Returns every
 * problem (none: usable). Why, when dev-pki.sh renews on each start: it is the safety net for what the
 * script cannot fix (a read-only directory, certificates put there by hand), so the stack refuses to
 * start with a reason instead of printing "up" and answering every call with 503.
 */
export function checkPki(dir: string, now: () => number = Date.now): readonly PkiProblem[] {
  const problems: PkiProblem[] = [];
  const report = (file: string, problem: string) => problems.push({ file, problem });
  const at = now();
  const ca = readPem(dir, 'ca.crt', (pem) => new X509Certificate(pem), report);
  if (ca !== undefined) checkValidity('ca.crt', ca, at, report);
  for (const { name, san } of STACK_CERTIFICATES) {
    const file = `${name}.crt`;
    const cert = readPem(dir, file, (pem) => new X509Certificate(pem), report);
    const key = readPem(dir, `${name}.key`, (pem): KeyObject => createPrivateKey(pem), report);
    if (cert === undefined) continue;
    checkValidity(file, cert, at, report);
    if (ca !== undefined && !(cert.checkIssued(ca) && cert.verify(ca.publicKey))) report(file, 'not issued by the dev CA (ca.crt)');
    if (key !== undefined && !cert.checkPrivateKey(key)) report(`${name}.key`, `does not match ${file}`);
    const sans = cert.subjectAltName?.split(', ') ?? [];
    if (!sans.includes(san)) report(file, `no SAN ${san} (has ${sans.length > 0 ? sans.join(', ') : 'none'})`);
  }
  return problems;
}

/** The refusal `startStack` and compose's `pki` service print: one line a problem, each naming its file. */
export function describePkiProblems(dir: string, problems: readonly PkiProblem[]): string {
  return [
    `refusing to start: the dev PKI in ${dir} cannot be used`,
    ...problems.map((p) => `  ${path.join(dir, p.file)}: ${p.problem}`),
    `(sh scripts/dev-pki.sh ${dir} renews what it issued; delete ${dir} to start afresh)`,
  ].join('\n');
}

/** RFC 5280 §4.1.2.5: valid from notBefore through notAfter, both inclusive. */
function checkValidity(file: string, cert: X509Certificate, at: number, report: (file: string, problem: string) => void): void {
  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  if (at > notAfter) report(file, `expired on ${utc(notAfter)}`);
  else if (at < notBefore) report(file, `not valid before ${utc(notBefore)}`);
}

function readPem<T>(dir: string, file: string, parse: (pem: Buffer) => T, report: (file: string, problem: string) => void): T | undefined {
  let pem: Buffer;
  try {
    pem = readFileSync(path.join(dir, file));
  } catch (err) {
    report(file, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : `cannot be read (${(err as Error).message})`);
    return undefined;
  }
  try {
    return parse(pem);
  } catch (err) {
    report(file, `not a usable PEM file (${(err as Error).message})`);
    return undefined;
  }
}

/** `2026-11-01 12:00:00 UTC` */
function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
