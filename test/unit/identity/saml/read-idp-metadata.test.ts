import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { readIdpMetadata } from '../../../../src/identity/saml/read-idp-metadata.js';
import { verifySamlAssertion } from '../../../../src/identity/saml/verify-assertion.js';
import {
  buildIdpMetadata,
  createSamlKey,
  IDP_ENTITY_ID,
  type MetadataOptions,
  SAML_NOW,
  type SamlKey,
  samlTrust,
  signedAssertion,
} from '../../../helpers/saml-signer.js';

let signing: SamlKey;
let rollover: SamlKey;
let encryption: SamlKey;

beforeAll(() => {
  signing = createSamlKey('idp-signing');
  rollover = createSamlKey('idp-rollover');
  encryption = createSamlKey('idp-encryption');
});

const fingerprints = (pems: readonly string[]) => pems.map((pem) => new X509Certificate(pem).fingerprint256);

describe('readIdpMetadata', () => {
  it('reads the entityID and the signing certificates as PEM', () => {
    const xml = buildIdpMetadata({
      keys: [
        { certificatePem: signing.certificatePem },
        { certificatePem: encryption.certificatePem, use: 'encryption' },
        { certificatePem: rollover.certificatePem, use: null },
      ],
    });
    const result = readIdpMetadata(xml);
    expect(result.ok ? 'ok' : result.problem).toBe('ok');
    if (!result.ok) return;
    expect(result.value.entityId).toBe(IDP_ENTITY_ID);
    expect(fingerprints(result.value.signingCertificates)).toEqual(fingerprints([signing.certificatePem, rollover.certificatePem]));
    expect(result.value.signingCertificates[0]).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
  });

  it('lists a certificate given twice once', () => {
    const result = readIdpMetadata(
      buildIdpMetadata({ keys: [{ certificatePem: signing.certificatePem }, { certificatePem: signing.certificatePem, use: null }] }),
    );
    expect(result.ok && result.value.signingCertificates.length).toBe(1);
  });

  it('yields a trust that verifies an assertion signed by the IdP', () => {
    const metadata = readIdpMetadata(buildIdpMetadata({ keys: [{ certificatePem: signing.certificatePem }] }));
    expect(metadata.ok).toBe(true);
    if (!metadata.ok) return;
    const result = verifySamlAssertion(
      signedAssertion(signing),
      samlTrust(metadata.value.signingCertificates, { entityId: metadata.value.entityId }),
      SAML_NOW,
    );
    expect(result.ok ? 'ok' : result.code).toBe('ok');
  });

  it.each([
    {
      name: 'no signing certificate',
      options: () => ({ keys: [{ certificatePem: encryption.certificatePem, use: 'encryption' as const }] }),
      problem: /no signing certificate/,
    },
    { name: 'no KeyDescriptor at all', options: () => ({ keys: [] }), problem: /no signing certificate/ },
    {
      name: 'a DOCTYPE',
      options: () => ({ keys: [{ certificatePem: signing.certificatePem }], prolog: '<!DOCTYPE md:EntityDescriptor [<!ENTITY x "y">]>' }),
      problem: /document type/,
    },
    {
      name: 'no SAML 2.0 protocol support',
      options: () => ({ keys: [{ certificatePem: signing.certificatePem }], protocolSupportEnumeration: 'urn:oasis:names:tc:SAML:1.1:protocol' }),
      problem: /SAML 2\.0/,
    },
    { name: 'an empty entityID', options: () => ({ keys: [{ certificatePem: signing.certificatePem }], entityId: '' }), problem: /entityID/ },
    {
      name: 'a certificate that is not base64',
      options: () => ({ keys: [{ certificatePem: '-----BEGIN CERTIFICATE-----\n%%%\n-----END CERTIFICATE-----' }] }),
      problem: /not base64/,
    },
    {
      name: 'base64 that is not a certificate',
      options: () => ({ keys: [{ certificatePem: Buffer.from('hello').toString('base64') }] }),
      problem: /not a certificate/,
    },
  ] satisfies { name: string; options: () => MetadataOptions; problem: RegExp }[])('refuses metadata with $name', ({ options, problem }) => {
    const result = readIdpMetadata(buildIdpMetadata(options()));
    expect(result.ok ? 'ok' : result.problem).toMatch(problem);
  });

  it.each([
    { name: 'an EntitiesDescriptor', xml: '<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"/>', problem: /EntityDescriptor/ },
    { name: 'an EntityDescriptor in no namespace', xml: `<EntityDescriptor entityID="${IDP_ENTITY_ID}"/>`, problem: /EntityDescriptor/ },
    { name: 'text that is not XML', xml: 'not xml', problem: /not acceptable XML/ },
  ])('refuses $name', ({ xml, problem }) => {
    const result = readIdpMetadata(xml);
    expect(result.ok ? 'ok' : result.problem).toMatch(problem);
  });
});
