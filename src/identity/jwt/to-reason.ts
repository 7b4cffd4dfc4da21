import { errors } from 'jose';
import { CallguardError } from '../../errors.js';
import { type Failure, fail } from '../../failure.js';

function fromClaimFailure(error: errors.JWTClaimValidationFailed): Failure {
  const { claim, reason } = error;
  // A present claim of the wrong type (RFC 7519 §2 NumericDate, §4.1.3 aud) is a claims problem.
  if (reason === 'invalid') return fail('ERR_TOKEN_CLAIMS', `the "${claim}" claim has the wrong type`);
  switch (claim) {
    case 'nbf':
      return fail('ERR_TOKEN_NOT_YET_VALID', 'the token is not valid yet ("nbf")'); // RFC 7519 §4.1.5
    case 'iat':
      return fail('ERR_TOKEN_NOT_YET_VALID', 'the token was issued in the future ("iat")'); // RFC 7519 §4.1.6
    case 'aud':
      return fail('ERR_TOKEN_AUDIENCE', 'the token is not meant for this audience'); // RFC 7519 §4.1.3
    case 'iss':
      return fail('ERR_TOKEN_ISSUER', 'the token issuer is not trusted'); // RFC 7519 §4.1.1
    default:
      return reason === 'missing'
        ? fail('ERR_TOKEN_CLAIMS', `the token lacks the "${claim}" claim`)
        : fail('ERR_TOKEN_CLAIMS', `the "${claim}" claim is not acceptable`);
  }
}

/**
 * Converts anything thrown while verifying a token into a coded failure: the one place foreign
 * (jose) errors become reason codes. Unknown errors become ERR_INTERNAL with their text kept internal.
 */
export function toReason(error: unknown): Failure {
  if (error instanceof CallguardError) return fail(error.code, error.message);
  if (error instanceof errors.JWTExpired) return fail('ERR_TOKEN_EXPIRED', 'the token has expired'); // RFC 7519 §4.1.4
  if (error instanceof errors.JWTClaimValidationFailed) return fromClaimFailure(error);
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return fail('ERR_TOKEN_SIGNATURE', 'the token signature does not verify');
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return fail('ERR_TOKEN_KEY_UNKNOWN', "no key of the issuer's key set matches the token");
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return fail('ERR_TOKEN_ALGORITHM', 'the token algorithm is not allowed for this issuer');
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return fail('ERR_TOKEN_MALFORMED', 'the token is not a valid JWS/JWT', error.message);
  }
  const internal = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return fail('ERR_INTERNAL', 'the token could not be verified', internal);
}
