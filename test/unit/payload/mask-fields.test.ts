import { describe, expect, it } from 'vitest';
import { MASKED, MAX_LOGGED_FIELDS, maskFields } from '../../../src/payload/mask-fields.js';

const body = {
  user: { name: 'jane', password: 'hunter2-secret', roles: ['admin', 'dev'] },
  cards: [
    { last4: '4242', cvv: '123' },
    { last4: '1881', cvv: '999' },
  ],
  'a/b': 1,
  'c~d': 2,
  note: 'x'.repeat(500),
  flag: false,
  none: null,
};

describe('maskFields', () => {
  it.each([
    { name: 'no logFields', logFields: [], sensitive: ['/user/password'], fields: {} },
    { name: 'plain scalars', logFields: ['/user/name', '/flag', '/none'], sensitive: [], fields: { '/user/name': 'jane', '/flag': false, '/none': null } },
    { name: 'sensitive field', logFields: ['/user/password'], sensitive: ['/user/password'], fields: { '/user/password': MASKED } },
    { name: 'logged field under a sensitive parent', logFields: ['/user/name'], sensitive: ['/user'], fields: { '/user/name': MASKED } },
    { name: 'object summarized, never copied', logFields: ['/user'], sensitive: ['/user/password'], fields: { '/user': '[object]' } },
    { name: 'array summarized', logFields: ['/user/roles'], sensitive: [], fields: { '/user/roles': '[array 2]' } },
    {
      name: 'wildcard logField with wildcard sensitive',
      logFields: ['/cards/*/last4', '/cards/*/cvv'],
      sensitive: ['/cards/*/cvv'],
      fields: { '/cards/0/last4': '4242', '/cards/1/last4': '1881', '/cards/0/cvv': MASKED, '/cards/1/cvv': MASKED },
    },
    {
      name: 'wildcard over object keys',
      logFields: ['/user/*'],
      sensitive: ['/*/password'],
      fields: { '/user/name': 'jane', '/user/password': MASKED, '/user/roles': '[array 2]' },
    },
    { name: 'concrete index', logFields: ['/cards/1/last4', '/user/roles/0'], sensitive: [], fields: { '/cards/1/last4': '1881', '/user/roles/0': 'admin' } },
    { name: 'non-canonical or missing index', logFields: ['/cards/01/last4', '/cards/2/last4', '/cards/-/last4'], sensitive: [], fields: {} },
    { name: 'missing path and path through a scalar', logFields: ['/nope', '/flag/x'], sensitive: [], fields: {} },
    { name: 'escaped tokens (RFC 6901)', logFields: ['/a~1b', '/c~0d'], sensitive: ['/c~0d'], fields: { '/a~1b': 1, '/c~0d': MASKED } },
    { name: 'long string cut', logFields: ['/note'], sensitive: [], fields: { '/note': `${'x'.repeat(200)}…` } },
    { name: 'malformed sensitive pointer masks everything', logFields: ['/user/name'], sensitive: ['/bad~2'], fields: { '/user/name': MASKED } },
  ])('$name', ({ logFields, sensitive, fields }) => {
    expect(maskFields(body, { logFields, sensitive })).toEqual(fields);
  });

  it('caps how far wildcards expand', () => {
    const many = { items: Array.from({ length: 500 }, (_, i) => i) };
    expect(Object.keys(maskFields(many, { logFields: ['/items/*'], sensitive: [] }))).toHaveLength(MAX_LOGGED_FIELDS);
  });

  it('never emits a sensitive value, whatever the pointers', () => {
    const fields = maskFields(body, { logFields: ['/*', '/*/*', '/*/*/*'], sensitive: ['/user/password', '/cards/*/cvv'] });
    expect(JSON.stringify(fields)).not.toMatch(/hunter2-secret|"123"|"999"/);
  });
});

// Without wildcards the pointers are resolved once at load; the answer must be the general path's.
describe('maskFields: fixed pointers agree with the general path', () => {
  const pointers = [
    '/user/name',
    '/user/password',
    '/user',
    '/user/roles/1',
    '/cards/0/cvv',
    '/cards/01/last4',
    '/a~1b',
    '/c~0d',
    '/note',
    '/flag/x',
    '',
    '/nope',
    '/user/name',
  ];
  const sensitives = [[], ['/user/password'], ['/user'], ['/cards/*/cvv'], ['/bad~2'], ['']];
  // A wildcard rule that matches nothing forces the general path without changing its result.
  const general = (logFields: string[], sensitive: string[]) => maskFields(body, { logFields: [...logFields, '/absent/*'], sensitive });
  let seed = 3;
  const pick = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed;
  };
  const cases = Array.from({ length: 60 }, (_, i) => ({
    logFields: Array.from({ length: 1 + (pick() % 5) }, () => pointers[pick() % pointers.length] as string),
    sensitive: sensitives[i % sensitives.length] as string[],
  }));
  it.each(cases)('$logFields / $sensitive', ({ logFields, sensitive }) => {
    expect(maskFields(body, { logFields, sensitive })).toEqual(general(logFields, sensitive));
  });

  it('caps fixed pointers too', () => {
    const many = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`k${i}`, i]));
    expect(Object.keys(maskFields(many, { logFields: Object.keys(many).map((k) => `/${k}`), sensitive: [] }))).toHaveLength(MAX_LOGGED_FIELDS);
  });
});
