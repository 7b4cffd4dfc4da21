import { describe, expect, it } from 'vitest';
import { readGroups, toJwtIdentity } from '../../../src/identity/to-jwt-identity.js';
import { testIssuerConfig } from '../../helpers/jwt-config.js';

describe('readGroups', () => {
  it.each([
    { name: 'an array of strings', value: ['a', 'b'], groups: ['a', 'b'] },
    { name: 'an empty array', value: [], groups: [] },
    { name: 'a single string', value: 'ops', groups: ['ops'] },
    { name: 'a missing claim', value: undefined, groups: [] },
    { name: 'a number', value: 7, groups: [] },
    { name: 'an object', value: { ops: true }, groups: [] },
    { name: 'an array with a non-string', value: ['a', 1], groups: [] },
    { name: 'null', value: null, groups: [] },
  ])('reads $name', ({ value, groups }) => {
    expect(readGroups({ roles: value }, 'roles')).toEqual(groups);
  });
});

describe('toJwtIdentity', () => {
  const issuer = testIssuerConfig(undefined, { name: 'corp', groupsClaim: 'roles' });
  it.each([
    { name: 'a string jti', jti: 'j-1', expected: { jti: 'j-1' } },
    { name: 'a numeric jti', jti: 12, expected: {} },
    { name: 'no jti', jti: undefined, expected: {} },
  ])('keeps $name only when it is a string', ({ jti, expected }) => {
    const payload: Record<string, unknown> = { sub: 's', exp: 10, roles: 'ops', jti };
    const identity = toJwtIdentity(issuer, payload, 'hash');
    expect(identity).toStrictEqual({
      issuerName: 'corp',
      issuer: 'https://issuer.test',
      subject: 's',
      groups: ['ops'],
      tokenHash: 'hash',
      expiresAt: 10,
      ...expected,
    });
    expect(Object.isFrozen(identity)).toBe(true);
  });
});
