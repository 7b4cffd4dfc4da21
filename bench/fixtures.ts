/**
 * Key material and payloads for the benchmark, generated fresh in a work directory on every run (nothing
 * secret or binary is committed): an RS256 signing key and its JWKS, bearer tokens, an mTLS client
 * certificate with one SPIFFE URI SAN, the function input schema and ~1 KB bodies that do and do not match it.
 */

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createKey } from '../src/identity/api-key/key-operations.js';
import { writeKeysFile } from '../src/identity/api-key/keys-file.js';
import { buildIdpMetadata, createSamlKey, signedAssertion } from '../test/helpers/saml-signer.js';

export const ISSUER = 'https://idp.bench.example';
export const SAML_ISSUER = 'https://saml.bench.example/idp';
export const AUDIENCE = 'callguard-bench';
export const GROUP = 'bench-callers';
export const TRUST_DOMAIN = 'example.org';
export const PEER_SPIFFE_ID = `spiffe://${TRUST_DOMAIN}/ns/bench/sa/caller`;
export const GATEWAY_PRINCIPAL = `spiffe://${TRUST_DOMAIN}/ns/edge/sa/envoy`;

export interface Fixtures {
  readonly dir: string;
  readonly jwksFile: string;
  readonly schemaDoc: Record<string, unknown>;
  /** URL-encoded PEM, the way Envoy sends `source.certificate`. */
  readonly peerCertificate: string;
  /** Signs `count` distinct tokens (distinct `sub` and `jti`), valid for an hour, with `extra` claims (a DPoP `cnf`). */
  readonly mintTokens: (count: number, extra?: Readonly<Record<string, unknown>>) => Promise<string[]>;
  readonly validBody: Uint8Array;
  readonly violatingBody: Uint8Array;
  /** A keys file with one key granting GROUP, and that key. */
  readonly apiKey: { readonly file: string; readonly key: string };
  /** An IdP metadata file and a signed assertion (base64) for a member of GROUP, valid for an hour. */
  readonly saml: { readonly metadataFile: string; readonly entityId: string; readonly audience: string; readonly credential: string };
}

/** The input schema of every bench function: an order with line items and a shipping address. */
export function orderSchema(title: string): Record<string, unknown> {
  const line = {
    type: 'object',
    additionalProperties: false,
    required: ['sku', 'quantity', 'unitPriceCents'],
    properties: {
      sku: { type: 'string', pattern: '^[A-Z]{3}-[0-9]{4,8}$' },
      quantity: { type: 'integer', minimum: 1, maximum: 1000 },
      unitPriceCents: { type: 'integer', minimum: 0 },
      giftWrap: { type: 'boolean' },
    },
  };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title,
    type: 'object',
    additionalProperties: false,
    required: ['orderId', 'customer', 'lines', 'shipping'],
    properties: {
      orderId: { type: 'string', format: 'uuid' },
      customer: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'email'],
        properties: { id: { type: 'string', maxLength: 64 }, email: { type: 'string', format: 'email' } },
      },
      lines: { type: 'array', minItems: 1, maxItems: 100, items: line },
      shipping: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'street', 'city', 'postalCode', 'country'],
        properties: {
          name: { type: 'string', maxLength: 200 },
          street: { type: 'string', maxLength: 200 },
          city: { type: 'string', maxLength: 100 },
          postalCode: { type: 'string', pattern: '^[0-9A-Z -]{3,10}$' },
          country: { type: 'string', pattern: '^[A-Z]{2}$' },
        },
      },
      note: { type: 'string', maxLength: 500 },
      requestedAt: { type: 'string', format: 'date-time' },
    },
  };
}

/** A ~1 KB order that matches `orderSchema`. */
export function orderBody(): Record<string, unknown> {
  const lines = Array.from({ length: 6 }, (_, i) => ({
    sku: `ABC-${String(1000 + i * 37).padStart(6, '0')}`,
    quantity: 1 + i,
    unitPriceCents: 1299 + i * 250,
    giftWrap: i % 2 === 0,
  }));
  return {
    orderId: '3f2b8c1e-6a4d-4e2f-9b7a-1c5d8e9f0a12',
    customer: { id: 'cust-000042', email: 'ada.lovelace@example.com' },
    lines,
    shipping: {
      name: 'Ada Lovelace',
      street: '12 St James Square',
      city: 'London',
      postalCode: 'SW1Y 4JH',
      country: 'GB',
    },
    note: 'Leave the parcel with the concierge if nobody answers; fragile items inside, keep upright please.',
    requestedAt: '2025-01-15T10:30:00Z',
  };
}

/** Generates every fixture under `dir` (which must exist). Needs `openssl` on PATH for the certificate. */
export async function createFixtures(dir: string): Promise<Fixtures> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = 'bench-key-1';
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));

  const mintTokens = async (count: number, extra: Readonly<Record<string, unknown>> = {}): Promise<string[]> => {
    const now = Math.floor(Date.now() / 1000);
    const tokens: string[] = [];
    for (let i = 0; i < count; i++) {
      tokens.push(
        await new SignJWT({ ...extra, groups: [GROUP, 'staff'], scope: 'orders:write' })
          .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setSubject(`user-${i}`)
          .setJti(`bench-${now}-${i}`)
          .setIssuedAt(now - 5)
          .setExpirationTime(now + 3600)
          .sign(privateKey),
      );
    }
    return tokens;
  };

  const body = orderBody();
  const violating = { ...body, lines: [{ sku: 'not-a-sku', quantity: '3', unitPriceCents: -1 }], extra: true };
  const now = Date.now();
  const created = createKey({ version: 1, keys: [] }, { owner: 'bench-ci', expiresAtMs: now + 86_400_000, groups: [GROUP] }, now, 90);
  const keysFile = join(dir, 'keys.json');
  writeKeysFile(keysFile, created.file);
  const samlKey = createSamlKey('bench-idp');
  const metadataFile = join(dir, 'idp-metadata.xml');
  writeFileSync(metadataFile, buildIdpMetadata({ entityId: SAML_ISSUER, keys: [{ certificatePem: samlKey.certificatePem }] }));
  const at = (seconds: number) => new Date(now + seconds * 1000).toISOString();
  const assertion = signedAssertion(samlKey, {
    issuer: SAML_ISSUER,
    nameId: 'alice@bench.example',
    issueInstant: at(-5),
    notBefore: at(-5),
    notOnOrAfter: at(3500),
    confirmations: [{ notOnOrAfter: at(3500) }],
    audienceRestrictions: [[AUDIENCE]],
    attributes: { groups: [GROUP, 'staff'], mail: ['alice@bench.example'] },
  });
  return {
    dir,
    jwksFile,
    apiKey: { file: keysFile, key: created.key },
    saml: { metadataFile, entityId: SAML_ISSUER, audience: AUDIENCE, credential: Buffer.from(assertion).toString('base64') },
    schemaDoc: orderSchema('order'),
    peerCertificate: encodeURIComponent(createPeerCertificate(dir)),
    mintTokens,
    validBody: new TextEncoder().encode(JSON.stringify(body)),
    violatingBody: new TextEncoder().encode(JSON.stringify(violating)),
  };
}

/**
 * A P-256 client certificate whose only SAN is the caller's SPIFFE URI, signed by a throwaway CA: a leaf
 * (`CA:FALSE`, SPIFFE X509-SVID §4.1), as Envoy would have verified it.
 */
function createPeerCertificate(dir: string): string {
  const file = (name: string) => join(dir, name);
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', '2', '-subj', '/O=bench/CN=bench CA']);
  openssl(['req', '-new', ...ec, '-keyout', file('peer.key'), '-out', file('peer.csr'), '-subj', '/O=bench/CN=caller']);
  writeFileSync(
    file('peer.ext'),
    `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectAltName=URI:${PEER_SPIFFE_ID}\n`,
  );
  openssl([
    'x509',
    '-req',
    '-in',
    file('peer.csr'),
    '-CA',
    file('ca.crt'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    file('peer.crt'),
    '-extfile',
    file('peer.ext'),
  ]);
  return readFileSync(file('peer.crt'), 'utf8');
}
