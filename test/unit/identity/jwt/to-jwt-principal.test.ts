import { describe, expect, it } from 'vitest';
import { readGroups, toJwtPrincipal } from '../../../../src/identity/jwt/to-jwt-principal.js';
import { testIssuerConfig } from '../../../helpers/jwt-config.js';

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

  it.each([
    { name: 'a nested claim by JSON pointer (Keycloak realm roles)', claim: '/realm_access/roles', groups: ['admin'] },
    { name: 'a claim name with a colon, literally', claim: 'cognito:groups', groups: ['c'] },
    { name: 'a URL claim name, literally', claim: 'https://corp.test/roles', groups: ['u'] },
    { name: 'a pointer with an escaped slash', claim: '/a~1b', groups: ['slash'] },
    { name: 'a pointer to a missing member', claim: '/realm_access/none', groups: [] },
    { name: 'a pointer through an array', claim: '/list/0', groups: [] },
  ])('reads $name', ({ claim, groups }) => {
    const payload = { realm_access: { roles: ['admin'] }, 'cognito:groups': ['c'], 'https://corp.test/roles': 'u', 'a/b': 'slash', list: [['x']] };
    expect(readGroups(payload, claim)).toEqual(groups);
  });
});

describe('toJwtPrincipal', () => {
  const issuer = testIssuerConfig(undefined, { name: 'corp', groupsClaim: 'roles' });
  it.each([
    { name: 'a string jti', jti: 'j-1', expected: { jti: 'j-1' } },
    { name: 'a numeric jti', jti: 12, expected: {} },
    { name: 'no jti', jti: undefined, expected: {} },
  ])('keeps $name only when it is a string', ({ jti, expected }) => {
    const payload: Record<string, unknown> = { sub: 's', exp: 10, roles: 'ops', jti };
    const identity = toJwtPrincipal(issuer, payload, 'hash');
    expect(identity).toStrictEqual({
      kind: 'jwt',
      source: 'corp',
      issuer: 'https://issuer.test',
      attributes: payload,
      subject: 's',
      groups: ['ops'],
      tokenHash: 'hash',
      expiresAt: 10,
      ...expected,
    });
    expect(Object.isFrozen(identity)).toBe(true);
  });
});
