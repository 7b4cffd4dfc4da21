import { type CertificateValidationContext, TlsParameters_TlsProtocol } from '../gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import type { CommonTlsContext } from '../gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { TLS_PROFILE } from '../transport/tls-profile.js';
import { at, type JsonPath } from './json-path.js';
import { type Finding, finding } from './rule-catalog.js';

const BELOW_1_2 = new Set([TlsParameters_TlsProtocol.TLSv1_0, TlsParameters_TlsProtocol.TLSv1_1]);

/**
 * tls-min-version and tls-cipher-not-aead for one CommonTlsContext (listener or cluster). TLS_AUTO
 * (unset) means TLS 1.2 as the minimum in Envoy 1.40 for clients and servers alike (tls.proto,
 * TlsParameters.tls_minimum_protocol_version). Cipher suites only apply to TLS ≤ 1.2; TLS 1.3 suites are
 * all AEAD and not configurable in Envoy.
 */
export function checkTlsParams(common: CommonTlsContext | undefined, path: JsonPath): Finding[] {
  const params = common?.tlsParams;
  if (params === undefined) return [];
  const paramsPath = at(path, 'common_tls_context', 'tls_params');
  const findings: Finding[] = [];
  if (BELOW_1_2.has(params.tlsMinimumProtocolVersion)) {
    findings.push(
      finding('tls-min-version', at(paramsPath, 'tls_minimum_protocol_version'), `minimum ${TlsParameters_TlsProtocol[params.tlsMinimumProtocolVersion]}`),
    );
  }
  if (BELOW_1_2.has(params.tlsMaximumProtocolVersion)) {
    findings.push(
      finding('tls-min-version', at(paramsPath, 'tls_maximum_protocol_version'), `maximum ${TlsParameters_TlsProtocol[params.tlsMaximumProtocolVersion]}`),
    );
  }
  for (const [i, algorithm] of params.signatureAlgorithms.entries()) {
    // TLS 1.2 signature schemes by SHA-1 (rsa_pkcs1_sha1, ecdsa_sha1): collisions are practical (SHAttered, 2017).
    if (/sha1$/i.test(algorithm)) findings.push(finding('tls-signature-sha1', at(paramsPath, 'signature_algorithms', i), algorithm));
  }
  for (const [i, entry] of params.cipherSuites.entries()) {
    // BoringSSL syntax: `[A|B]` is an equal-preference group (Envoy's default list uses it).
    const weak = entry
      .split(/[[\]|]/)
      .filter((name) => name !== '')
      .filter((name) => !isAead(name));
    if (weak.length > 0) findings.push(finding('tls-cipher-not-aead', at(paramsPath, 'cipher_suites', i), `not AEAD: ${weak.join(', ')}`));
  }
  return findings;
}

/** The TLS profile's suites (ECDHE with AEAD: forward secrecy, no CBC), or a TLS 1.3 suite name (all AEAD). */
function isAead(suite: string): boolean {
  return TLS_PROFILE.envoyAeadSuites.includes(suite) || /^TLS_(AES_(128|256)_GCM|CHACHA20_POLY1305)_SHA(256|384)$/.test(suite);
}

/** The validation context of a TLS context, wherever it is given; `sds` when it comes from SDS (not in the file). */
export function validationOf(common: CommonTlsContext | undefined): CertificateValidationContext | 'sds' | undefined {
  const type = common?.validationContextType;
  switch (type?.case) {
    case 'validationContext':
      return type.value;
    case 'combinedValidationContext':
      return type.value.validationContextSdsSecretConfig !== undefined ? 'sds' : type.value.defaultValidationContext;
    case 'validationContextSdsSecretConfig':
    case 'validationContextCertificateProvider':
    case 'validationContextCertificateProviderInstance':
      return 'sds';
    default:
      return undefined;
  }
}

/** Whether a validation context names trust anchors: a CA file/inline, a provider, system roots or a custom validator (SPIFFE). */
export function hasTrustAnchors(validation: CertificateValidationContext | 'sds' | undefined): boolean {
  if (validation === 'sds') return true;
  if (validation === undefined) return false;
  return (
    validation.trustedCa !== undefined ||
    validation.caCertificateProviderInstance !== undefined ||
    validation.systemRootCerts !== undefined ||
    validation.customValidatorConfig !== undefined
  );
}
