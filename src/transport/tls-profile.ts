/**
 * The TLS profile callguard ships (README "TLS profile"): what envoy/envoy.yaml states on every TLS context,
 * what callguard's gRPC server defaults to (schema.json `server.tls`), and what the example function does.
 * One place for the rules a linter holds an Envoy config to; test/unit/transport/tls-profile.test.ts checks
 * the shipped files against it.
 *
 * Why each line:
 * - TLS 1.2 at least (RFC 8996 deprecates 1.0 and 1.1); TLS 1.3 only where both ends are ours (Envoy ->
 *   callguard): no CBC, no renegotiation, the client certificate encrypted.
 * - TLS 1.2 suites: ECDHE (forward secrecy) with AEAD (AES-GCM, ChaCha20-Poly1305). No CBC (Lucky13-class
 *   padding oracles), no CCM8 (short tag), no ARIA/Camellia, no RSA key exchange. TLS 1.3 suites are all AEAD.
 * - Handshake signatures (`signature_algorithms`): never SHA-1. Where Envoy checks a peer of ours (the
 *   clusters), ECDSA only: an RSA key, whatever its size, has nothing it may sign the handshake with, so
 *   an RSA-1024 upstream fails the handshake (503). BoringSSL has no key-size setting; this is how Envoy
 *   1.40 refuses weak upstream keys.
 * - ECDH groups: X25519, P-256, P-384 (no P-521 or custom curves).
 * - Revocation: every validation context carries the CA's CRL (`crl`), checked for the whole chain.
 * - Not expressible in Envoy 1.40: the signature algorithm of a certificate (BoringSSL's X509_verify_cert
 *   verifies a SHA-1 signature from a trusted CA; CertificateValidationContext has no setting for it) and
 *   the key size of a CLIENT certificate. Kept out by the issuing CA, by scripts/lib/check-pki.ts (refuses to
 *   start the stack on one) and by revoking one in service.
 */
/** Envoy's TLS 1.2 suites that are ECDHE with AEAD: the only TLS 1.2 suites any context may offer. */
const ENVOY_AEAD_SUITES = Object.freeze([
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-RSA-AES256-GCM-SHA384',
]);

export const TLS_PROFILE = Object.freeze({
  /** Envoy's `tls_params` for a listener (callers bring their own PKI: RSA client certificates allowed). */
  envoyListener: Object.freeze({
    tls_minimum_protocol_version: 'TLSv1_2',
    tls_maximum_protocol_version: 'TLSv1_3',
    cipher_suites: ENVOY_AEAD_SUITES,
    ecdh_curves: Object.freeze(['X25519', 'P-256', 'P-384']),
    signature_algorithms: Object.freeze([
      'ecdsa_secp256r1_sha256',
      'ecdsa_secp384r1_sha384',
      'rsa_pss_rsae_sha256',
      'rsa_pss_rsae_sha384',
      'rsa_pss_rsae_sha512',
      'rsa_pkcs1_sha256',
      'rsa_pkcs1_sha384',
      'rsa_pkcs1_sha512',
    ]),
  }),
  /** Envoy's `tls_params` for a cluster to a peer of ours (function); the callguard cluster: TLS 1.3 only. */
  envoyCluster: Object.freeze({
    tls_minimum_protocol_version: 'TLSv1_2',
    tls_maximum_protocol_version: 'TLSv1_3',
    cipher_suites: Object.freeze(ENVOY_AEAD_SUITES.filter((suite) => suite.startsWith('ECDHE-ECDSA-'))),
    ecdh_curves: Object.freeze(['X25519', 'P-256', 'P-384']),
    signature_algorithms: Object.freeze(['ecdsa_secp256r1_sha256', 'ecdsa_secp384r1_sha384']),
  }),
  /** Envoy clusters whose both ends are ours: TLS 1.3 only. */
  tls13OnlyClusters: Object.freeze(['callguard']),
  /** Envoy's TLS 1.2 suites that are AEAD with ECDHE: the only ones a linter should accept anywhere. */
  envoyAeadSuites: ENVOY_AEAD_SUITES,
  /** Handshake signature algorithms no context may offer. */
  forbiddenSignatureAlgorithms: Object.freeze(['rsa_pkcs1_sha1', 'ecdsa_sha1', 'rsa_pkcs1_md5_sha1']),
  /** Node (callguard's gRPC server default, the example function): TLS 1.3 and 1.2 suite names, AEAD only. */
  nodeCiphers: Object.freeze([
    'TLS_AES_128_GCM_SHA256',
    'TLS_AES_256_GCM_SHA384',
    'TLS_CHACHA20_POLY1305_SHA256',
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-RSA-CHACHA20-POLY1305',
  ]),
});
