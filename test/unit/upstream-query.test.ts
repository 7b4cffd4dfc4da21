import { describe, expect, it } from 'vitest';
import { cleanQuery } from '../../src/upstream-query.js';

const names = new Set(['access_token', 'api_key']);

describe('cleanQuery: a credential in the URL never reaches the function (RFC 6750 §2.3, issue 10 item 8)', () => {
  it.each([
    { name: 'no query', path: '/orders', want: { ok: true, remove: [] } },
    { name: 'other parameters only', path: '/orders?page=2&sort=asc', want: { ok: true, remove: [] } },
    { name: 'access_token', path: '/orders?access_token=eyJ.x.y&page=2', want: { ok: true, remove: ['access_token'] } },
    { name: 'both names, one twice', path: '/orders?api_key=k&access_token=a&access_token=b', want: { ok: true, remove: ['api_key', 'access_token'] } },
    { name: 'a name without a value', path: '/orders?access_token', want: { ok: true, remove: ['access_token'] } },
    { name: 'a different case is another name', path: '/orders?ACCESS_TOKEN=x', want: { ok: true, remove: [] } },
    { name: 'percent-encoded name (Envoy could not remove it)', path: '/orders?access%5Ftoken=x', want: { ok: false, name: 'access_token' } },
    { name: 'encoded letter', path: '/orders?access_tok%65n=x', want: { ok: false, name: 'access_token' } },
    { name: 'a malformed escape in a name', path: '/orders?acc%ZZess=x', want: { ok: false, name: 'acc%ZZess' } },
    { name: 'an encoded name that is not a credential', path: '/orders?na%6De=x', want: { ok: true, remove: [] } },
    { name: '+ in a name that decodes to another one', path: '/orders?access+token=x', want: { ok: true, remove: [] } },
  ])('$name', ({ path, want }) => {
    expect(cleanQuery(path, names)).toEqual(want);
  });
});
