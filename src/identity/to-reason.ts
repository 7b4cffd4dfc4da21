import { errors } from 'jose';
import { CallguardError, type ReasonCode } from '../errors.js';

/** A coded identity failure: `detail` is public, `internal` goes to the log only. */
export interface IdentityFailure {
  readonly ok: false;
  readonly code: ReasonCode;
  readonly detail: string;
  readonly internal?: string;
}

function failure(code: ReasonCode, detail: string, internal?: string): IdentityFailure {
  return internal === undefined ? { ok: false, code, detail } : { ok: false, code, detail, internal };
}

function fromClaimFailure(error: errors.JWTClaimValidationFailed): IdentityFailure {
  const { claim, reason } = error;
  // A present claim of the wrong type (RFC 7519 §2 NumericDate, §4.1.3 aud) is a claims problem.
  if (reason === 'invalid') return failure('ERR_TOKEN_CLAIMS', `the "${claim}" claim has the wrong type`);
  switch (claim) {
    case 'nbf':
      return failure('ERR_TOKEN_NOT_YET_VALID', 'the token is not valid yet ("nbf")'); // RFC 7519 §4.1.5
    case 'iat':
      return failure('ERR_TOKEN_NOT_YET_VALID', 'the token was issued in the future ("iat")'); // RFC 7519 §4.1.6
    case 'aud':
      return failure('ERR_TOKEN_AUDIENCE', 'the token is not meant for this audience'); // RFC 7519 §4.1.3
    case 'iss':
      return failure('ERR_TOKEN_ISSUER', 'the token issuer is not trusted'); // RFC 7519 §4.1.1
    default:
      return reason === 'missing'
        ? failure('ERR_TOKEN_CLAIMS', `the token lacks the "${claim}" claim`)
        : failure('ERR_TOKEN_CLAIMS', `the "${claim}" claim is not acceptable`);
  }
}

/**
 * Converts anything thrown while verifying a token into a coded failure: the one place foreign
 * (jose) errors become reason codes. Unknown errors become ERR_INTERNAL with their text kept internal.
 */
export function toReason(error: unknown): IdentityFailure {
  if (error instanceof CallguardError) return failure(error.code, error.message);
  if (error instanceof errors.JWTExpired) return failure('ERR_TOKEN_EXPIRED', 'the token has expired'); // RFC 7519 §4.1.4
  if (error instanceof errors.JWTClaimValidationFailed) return fromClaimFailure(error);
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return failure('ERR_TOKEN_SIGNATURE', 'the token signature does not verify');
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return failure('ERR_TOKEN_KEY_UNKNOWN', "no key of the issuer's key set matches the token");
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return failure('ERR_TOKEN_ALGORITHM', 'the token algorithm is not allowed for this issuer');
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return failure('ERR_TOKEN_MALFORMED', 'the token is not a valid JWS/JWT', error.message);
  }
  const internal = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return failure('ERR_INTERNAL', 'the token could not be verified', internal);
}
