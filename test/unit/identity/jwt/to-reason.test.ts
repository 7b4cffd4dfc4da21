import { errors } from 'jose';
import { describe, expect, it } from 'vitest';
import { CallguardError } from '../../../../src/errors.js';
import { toReason } from '../../../../src/identity/jwt/to-reason.js';

const claims = { sub: 'secret-subject', aud: 'secret-audience' };
const claimFailure = (claim: string, reason: string) => new errors.JWTClaimValidationFailed(`bad ${claim}`, claims, claim, reason);

describe('toReason', () => {
  it.each([
    { name: 'JWTExpired', error: new errors.JWTExpired('x', claims, 'exp', 'check_failed'), code: 'ERR_TOKEN_EXPIRED' },
    { name: 'nbf check failed', error: claimFailure('nbf', 'check_failed'), code: 'ERR_TOKEN_NOT_YET_VALID' },
    { name: 'iat check failed', error: claimFailure('iat', 'check_failed'), code: 'ERR_TOKEN_NOT_YET_VALID' },
    { name: 'aud check failed', error: claimFailure('aud', 'check_failed'), code: 'ERR_TOKEN_AUDIENCE' },
    { name: 'aud missing', error: claimFailure('aud', 'missing'), code: 'ERR_TOKEN_AUDIENCE' },
    { name: 'iss check failed', error: claimFailure('iss', 'check_failed'), code: 'ERR_TOKEN_ISSUER' },
    { name: 'exp missing', error: claimFailure('exp', 'missing'), code: 'ERR_TOKEN_CLAIMS' },
    { name: 'sub missing', error: claimFailure('sub', 'missing'), code: 'ERR_TOKEN_CLAIMS' },
    { name: 'nbf of the wrong type', error: claimFailure('nbf', 'invalid'), code: 'ERR_TOKEN_CLAIMS' },
    { name: 'JWSSignatureVerificationFailed', error: new errors.JWSSignatureVerificationFailed(), code: 'ERR_TOKEN_SIGNATURE' },
    { name: 'JWKSNoMatchingKey', error: new errors.JWKSNoMatchingKey(), code: 'ERR_TOKEN_KEY_UNKNOWN' },
    { name: 'JOSEAlgNotAllowed', error: new errors.JOSEAlgNotAllowed('x'), code: 'ERR_TOKEN_ALGORITHM' },
    { name: 'JWSInvalid', error: new errors.JWSInvalid('x'), code: 'ERR_TOKEN_MALFORMED' },
    { name: 'JWTInvalid', error: new errors.JWTInvalid('x'), code: 'ERR_TOKEN_MALFORMED' },
    { name: 'CallguardError', error: new CallguardError('ERR_KEYS_UNAVAILABLE', 'keys down'), code: 'ERR_KEYS_UNAVAILABLE' },
    { name: 'JWKSInvalid', error: new errors.JWKSInvalid('x'), code: 'ERR_INTERNAL' },
    { name: 'a TypeError', error: new TypeError('x'), code: 'ERR_INTERNAL' },
    { name: 'a thrown string', error: 'x', code: 'ERR_INTERNAL' },
  ])('maps $name to $code', ({ error, code }) => {
    const reason = toReason(error);
    expect(reason.code).toBe(code);
    expect(reason.ok).toBe(false);
    expect(reason.detail).not.toMatch(/secret-/);
  });

  it('keeps the foreign message out of the public detail of ERR_INTERNAL', () => {
    const reason = toReason(new RangeError('key material at 0xdeadbeef'));
    expect(reason.code).toBe('ERR_INTERNAL');
    expect(reason.detail).not.toContain('deadbeef');
    expect(reason.internal).toBe('RangeError: key material at 0xdeadbeef');
  });
});
