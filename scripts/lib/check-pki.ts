import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ENVOY_SPIFFE_ID } from './stack-config.js';

/** A certificate of the dev PKI (`NAME.crt` + `NAME.key`) and the SAN the peer that checks it pins. */
export interface StackCertificate {
  readonly name: string;
  /** In Node's `subjectAltName` spelling: `DNS:callguard`, `URI:spiffe://…`, `IP Address:127.0.0.1`. */
  readonly san: string;
  /** Envoy's clusters check it: their signature_algorithms are ECDSA only, so an RSA key fails every handshake. */
  readonly ecdsaOnly?: boolean;
}

/** Every leaf scripts/dev-pki.sh issues, each with the one SAN its consumer relies on. */
export const STACK_CERTIFICATES: readonly StackCertificate[] = Object.freeze([
  // Callers verify https://localhost:8443 (npm run stack, compose's published port).
  { name: 'envoy', san: 'DNS:localhost' },
  // callguard (server.tls.clientSans) and the function (--envoy-san) pin it.
  { name: 'envoy-client', san: `URI:${ENVOY_SPIFFE_ID}` },
  // Envoy's match_typed_subject_alt_names on the `callguard` and `function` clusters (envoy/envoy.yaml).
  { name: 'callguard', san: 'DNS:callguard', ecdsaOnly: true },
  { name: 'function', san: 'DNS:function', ecdsaOnly: true },
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
  if (ca !== undefined) checkStrength('ca.crt', ca, false, report);
  for (const { name, san, ecdsaOnly } of STACK_CERTIFICATES) {
    const file = `${name}.crt`;
    const cert = readPem(dir, file, (pem) => new X509Certificate(pem), report);
    const key = readPem(dir, `${name}.key`, (pem): KeyObject => createPrivateKey(pem), report);
    if (cert === undefined) continue;
    checkValidity(file, cert, at, report);
    checkStrength(file, cert, ecdsaOnly ?? false, report);
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

/**
 * The TLS profile's floor, for what Envoy 1.40 cannot check itself (README "TLS profile"): BoringSSL verifies
 * a SHA-1 signature from a trusted CA, and Envoy has no key-size setting. Keys: EC P-256/P-384, or RSA of at
 * least 2048 bits where RSA is allowed at all. Signatures: no SHA-1 or MD5.
 */
function checkStrength(file: string, cert: X509Certificate, ecdsaOnly: boolean, report: (file: string, problem: string) => void): void {
  const key = cert.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve !== 'prime256v1' && details.namedCurve !== 'secp384r1')
      report(file, `EC key on ${details.namedCurve}: the TLS profile needs P-256 or P-384`);
  } else if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') {
    const bits = details.modulusLength ?? 0;
    if (ecdsaOnly) report(file, `RSA-${bits} key: Envoy's clusters accept only ECDSA keys (P-256, P-384)`);
    else if (bits < 2048) report(file, `RSA-${bits} key: the TLS profile needs at least 2048 bits`);
  } else {
    report(file, `${key.asymmetricKeyType} key: the TLS profile needs ECDSA (P-256, P-384)`);
  }
  const weak = WEAK_SIGNATURES.get(signatureAlgorithmOid(cert.raw));
  if (weak !== undefined) report(file, `signed with ${weak}: the TLS profile refuses SHA-1 and MD5 signatures`);
}

/** Signature algorithm OIDs (dotted) the profile refuses, by name. */
const WEAK_SIGNATURES: ReadonlyMap<string, string> = new Map([
  ['1.2.840.113549.1.1.4', 'md5WithRSAEncryption'],
  ['1.2.840.113549.1.1.5', 'sha1WithRSAEncryption'],
  ['1.2.840.10045.4.1', 'ecdsa-with-SHA1'],
  ['1.2.840.10040.4.3', 'dsa-with-SHA1'],
]);

/**
 * The outer signatureAlgorithm of a DER certificate (RFC 5280 §4.1.1.2), as a dotted OID; '' when the DER
 * is not shaped as expected. Node 20's X509Certificate does not expose it.
 */
export function signatureAlgorithmOid(der: Buffer): string {
  const certificate = derElement(der, 0);
  const tbs = certificate && derElement(der, certificate.start);
  const algorithm = tbs && derElement(der, tbs.end);
  const oid = algorithm && derElement(der, algorithm.start);
  if (oid === undefined || oid.tag !== 0x06) return '';
  const bytes = der.subarray(oid.start, oid.end);
  const arcs: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(value);
      value = 0;
    }
  }
  // X.690 §8.19.4: the first subidentifier packs the first two arcs (40 * X + Y, X at most 2).
  const packed = arcs.shift() ?? 0;
  const top = Math.min(2, Math.floor(packed / 40));
  return [top, packed - 40 * top, ...arcs].join('.');
}

/** One DER tag-length-value at `offset`: its tag and where its contents start and end. */
function derElement(der: Buffer, offset: number): { tag: number; start: number; end: number } | undefined {
  const tag = der[offset];
  let length = der[offset + 1];
  if (tag === undefined || length === undefined) return undefined;
  let start = offset + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4) return undefined;
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + (der[start + i] ?? 0);
    start += octets;
  }
  return start + length <= der.length ? { tag, start, end: start + length } : undefined;
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
