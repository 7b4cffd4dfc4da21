import { createHash } from 'node:crypto';

/**
 * `JwtPrincipal.tokenHash`: base64url of the first 16 bytes of SHA-256 over the token's signing input
 * (RFC 7515 §5.1: `BASE64URL(header) '.' BASE64URL(payload)`, the first two segments).
 *
 * Not over the whole token: a signature has other valid encodings (ECDSA's `s` and `n − s` both verify)
 * and ECDSA and RSA-PSS sign with fresh randomness, so signature bytes never named a token. The signing
 * input is what the issuer vouched for, and with canonical base64url (see `inspectToken`) it has one
 * spelling. Correlates decisions in the log; it is not a secret, and the token cannot be rebuilt from it.
 */
export function toTokenHash(signingInput: string): string {
  return createHash('sha256').update(signingInput).digest().subarray(0, 16).toString('base64url');
}
