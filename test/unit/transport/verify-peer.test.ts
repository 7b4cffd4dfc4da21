import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSpiffeId } from '../../../src/transport/spiffe-id.js';
import { createPeerVerifier, uriSans } from '../../../src/transport/verify-peer.js';
import { createTestCerts } from '../../helpers/test-certs.js';

describe('parseSpiffeId', () => {
  it.each([
    { name: 'workload', id: 'spiffe://example.org/ns/default/sa/billing', domain: 'example.org' },
    { name: 'trust domain only', id: 'spiffe://example.org', domain: 'example.org' },
    { name: 'upper-case domain', id: 'spiffe://Example.org/x', domain: undefined },
    { name: 'port', id: 'spiffe://example.org:443/x', domain: undefined },
    { name: 'userinfo', id: 'spiffe://u@example.org/x', domain: undefined },
    { name: 'dot-dot segment', id: 'spiffe://example.org/a/../b', domain: undefined },
    { name: 'empty segment', id: 'spiffe://example.org/a//b', domain: undefined },
    { name: 'trailing slash', id: 'spiffe://example.org/a/', domain: undefined },
    { name: 'query', id: 'spiffe://example.org/a?b', domain: undefined },
    { name: 'percent', id: 'spiffe://example.org/a%2Fb', domain: undefined },
    { name: 'other scheme', id: 'https://example.org/a', domain: undefined },
  ])('$name', ({ id, domain }) => {
    expect(parseSpiffeId(id)?.trustDomain).toBe(domain);
  });
});

describe('uriSans', () => {
  it.each([
    { name: 'none', san: undefined, want: [] },
    { name: 'dns only', san: 'DNS:a.example, DNS:b.example', want: [] },
    { name: 'one uri', san: 'DNS:a, URI:spiffe://example.org/x', want: ['spiffe://example.org/x'] },
    { name: 'quoted uri with comma', san: 'URI:"spiffe://example.org/a,URI:spiffe://evil/x"', want: ['spiffe://example.org/a,URI:spiffe://evil/x'] },
  ])('$name', ({ san, want }) => {
    expect(uriSans(san)).toEqual(want);
  });
});

describe('createPeerVerifier', () => {
  const certs = createTestCerts();
  const pems: Record<string, string> = {};
  beforeAll(() => {
    pems.good = certs.leaf('good', 'URI:spiffe://example.org/ns/default/sa/billing').pem;
    pems.two = certs.leaf('two', 'URI:spiffe://example.org/a,URI:spiffe://example.org/b').pem;
    pems.dns = certs.leaf('dns', 'DNS:client.example.org').pem;
    pems.foreign = certs.leaf('foreign', 'URI:spiffe://evil.org/ns/default/sa/billing').pem;
    pems.notSpiffe = certs.leaf('https', 'URI:https://example.org/x').pem;
    pems.bare = certs.leaf('bare', 'URI:spiffe://example.org').pem;
    pems.ca = certs.caWithSan('URI:spiffe://example.org/ns/default/sa/ca').pem;
  });
  afterAll(() => certs.cleanup());

  const verifier = createPeerVerifier(['example.org']);
  it.each([
    { name: 'valid SPIFFE peer', cert: 'good', principal: 'spiffe://example.org/ns/default/sa/billing', code: undefined },
    { name: 'two URI SANs', cert: 'two', principal: 'spiffe://example.org/a', code: 'ERR_PEER_INVALID' },
    { name: 'no URI SAN', cert: 'dns', principal: 'client.example.org', code: 'ERR_PEER_INVALID' },
    { name: 'untrusted domain', cert: 'foreign', principal: 'spiffe://evil.org/ns/default/sa/billing', code: 'ERR_PEER_UNTRUSTED' },
    { name: 'not a SPIFFE URI', cert: 'notSpiffe', principal: 'https://example.org/x', code: 'ERR_PEER_INVALID' },
    { name: 'bare trust domain', cert: 'bare', principal: 'spiffe://example.org', code: 'ERR_PEER_INVALID' },
    { name: 'CA certificate', cert: 'ca', principal: 'spiffe://example.org/ns/default/sa/ca', code: 'ERR_PEER_INVALID' },
    { name: 'principal differs from SAN', cert: 'good', principal: 'spiffe://example.org/other', code: 'ERR_PEER_INVALID' },
    { name: 'certificate missing', cert: undefined, principal: 'spiffe://example.org/ns/default/sa/billing', code: 'ERR_PEER_INVALID' },
    { name: 'certificate garbage', cert: 'garbage', principal: 'spiffe://example.org/x', code: 'ERR_PEER_INVALID' },
  ])('$name', ({ cert, principal, code }) => {
    const pem = cert === 'garbage' ? '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' : cert ? pems[cert] : undefined;
    const result = verifier.verify({ principal, ...(pem !== undefined ? { certificatePem: pem } : {}) });
    expect(result.ok ? undefined : result.code).toBe(code);
    if (result.ok)
      expect(result.value).toMatchObject({ kind: 'mtls', subject: principal, issuer: 'example.org', spiffeId: principal, trustDomain: 'example.org' });
  });
});
