import type { PeerCertificate } from '../../call-attempt.js';
import { type Failure, fail } from '../../failure.js';
import type { CredentialPrincipal } from '../../principal.js';
import { certificateThumbprint } from './certificate-thumbprint.js';

/** What a function requires of a token's binding to its caller (`functions[].senderConstrained`). */
export type SenderConstraint = 'mtls' | 'dpop' | 'either';

const UNBOUND = fail('ERR_TOKEN_BINDING', 'this function accepts only sender-constrained tokens');

/**
 * A token that carries a confirmation (`cnf`, RFC 7800) is always held to it; a function may also
 * require one. `cnf.x5t#S256` (RFC 8705 §3.1) must equal the thumbprint of the client certificate
 * Envoy verified on this connection. `cnf.jkt` (RFC 9449 §6) binds the token to a DPoP key: presented
 * as a Bearer token it is refused (RFC 9449 §7.1), since the proof of that key is what makes it usable.
 * Undefined when the credential passes.
 */
export function checkTokenBinding(
  credential: CredentialPrincipal,
  peer: PeerCertificate | undefined,
  required: SenderConstraint | undefined,
): Failure | undefined {
  if (credential.kind !== 'jwt') return required === undefined ? undefined : UNBOUND;
  const cnf = credential.attributes['cnf'];
  if (cnf === undefined) return required === undefined ? undefined : UNBOUND;
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) return fail('ERR_TOKEN_BINDING', 'the token\'s "cnf" claim is not an object');
  const confirmation = cnf as Record<string, unknown>;
  if (Object.hasOwn(confirmation, 'jkt')) {
    // The DPoP authenticator checked the proof against cnf.jkt; anything else is a Bearer use of a DPoP token.
    if (credential.proofOfPossession === 'dpop') return required === 'mtls' ? UNBOUND : undefined;
    return fail('ERR_TOKEN_BINDING', 'a DPoP-bound token needs a DPoP proof (RFC 9449 §7.1)', 'cnf.jkt on a Bearer token');
  }
  const expected = Object.hasOwn(confirmation, 'x5t#S256') ? confirmation['x5t#S256'] : undefined;
  if (expected === undefined) {
    // A confirmation method callguard cannot check is never ignored.
    return fail('ERR_TOKEN_BINDING', "the token's confirmation method is not one callguard can check", `cnf members: ${Object.keys(confirmation).join(', ')}`);
  }
  if (typeof expected !== 'string') return fail('ERR_TOKEN_BINDING', 'the token\'s "cnf.x5t#S256" is not a string');
  if (required === 'dpop') return UNBOUND;
  if (peer === undefined)
    return fail('ERR_TOKEN_BINDING', 'the token is bound to a client certificate: present it (mTLS)', 'no client certificate on the connection');
  const actual = peer.certificatePem === undefined ? undefined : certificateThumbprint(peer.certificatePem);
  if (actual === undefined)
    return fail('ERR_TOKEN_BINDING', 'the client certificate could not be checked', 'Envoy sent no peer certificate PEM (include_peer_certificate: true)');
  return actual === expected ? undefined : fail('ERR_TOKEN_BINDING', 'the token is bound to another client certificate');
}
