import { describe, expect, it } from 'vitest';
import type { FunctionConfig } from '../../../src/config/types.js';
import { createFunctionRegistry } from '../../../src/functions/function-registry.js';
import { parsePathTemplate, requestPathSegments } from '../../../src/functions/path-template.js';

const fn = (name: string, method: string, path: string): FunctionConfig => ({
  name,
  match: { method, path, logParams: [] },
  requireMtls: false,
  mode: 'enforce',
  singleUse: false,
  allow: [],
});

describe('parsePathTemplate', () => {
  it.each([
    { name: 'literal', path: '/orders', ok: true },
    { name: 'template', path: '/orders/{id}/items', ok: true },
    { name: 'root', path: '/', ok: true },
    { name: 'empty segment', path: '/orders//x', ok: false },
    { name: 'dot-dot', path: '/orders/../x', ok: false },
    { name: 'percent', path: '/orders%2Fx', ok: false },
    { name: 'partial param', path: '/orders/id-{id}', ok: false },
    { name: 'trailing slash', path: '/orders/', ok: false },
  ])('$name', ({ path, ok }) => {
    expect(parsePathTemplate(path).ok).toBe(ok);
  });
});

describe('requestPathSegments', () => {
  it.each([
    { name: 'plain', path: '/orders/1', want: ['orders', '1'] },
    { name: 'query dropped', path: '/orders?x=/../y', want: ['orders'] },
    { name: 'double slash', path: '//orders', want: undefined },
    { name: 'encoded slash', path: '/%2Forders', want: undefined },
    { name: 'encoded slash lower', path: '/a%2forders', want: undefined },
    { name: 'encoded dot', path: '/%2e%2e/orders', want: undefined },
    { name: 'dot-dot', path: '/x/../orders', want: undefined },
    { name: 'dot', path: '/./orders', want: undefined },
    { name: 'backslash', path: '/x\\orders', want: undefined },
    { name: 'trailing slash', path: '/orders/', want: undefined },
    { name: 'relative', path: 'orders', want: undefined },
  ])('$name', ({ path, want }) => {
    expect(requestPathSegments(path)).toEqual(want);
  });
});

describe('createFunctionRegistry', () => {
  const registry = createFunctionRegistry([
    fn('orders.create', 'POST', '/orders'),
    fn('orders.get', 'GET', '/orders/{id}'),
    fn('orders.mine', 'GET', '/orders/mine'),
    fn('items.add', 'POST', '/orders/{id}/items'),
    { name: 'named.only', requireMtls: false, mode: 'enforce', singleUse: false, allow: [] },
  ]);
  it.each([
    { name: 'exact', method: 'POST', path: '/orders', want: 'orders.create' },
    { name: 'exact with query', method: 'POST', path: '/orders?dry=1', want: 'orders.create' },
    { name: 'method mismatch', method: 'GET', path: '/orders', want: undefined },
    { name: 'template', method: 'GET', path: '/orders/42', want: 'orders.get' },
    { name: 'literal beats template', method: 'GET', path: '/orders/mine', want: 'orders.mine' },
    { name: 'nested template', method: 'POST', path: '/orders/42/items', want: 'items.add' },
    { name: 'too many segments', method: 'GET', path: '/orders/42/x', want: undefined },
    { name: 'double slash variant', method: 'POST', path: '//orders', want: undefined },
    { name: 'encoded slash variant', method: 'GET', path: '/orders%2F42', want: undefined },
    { name: 'dot-dot variant', method: 'GET', path: '/orders/x/../42', want: undefined },
    { name: 'unknown', method: 'POST', path: '/admin', want: undefined },
  ])('$name', ({ method, path, want }) => {
    expect(registry.match(method, path)?.name).toBe(want);
  });
  it('finds functions by name, including those without a match', () => {
    expect(registry.byName('named.only')?.name).toBe('named.only');
    expect(registry.byName('nope')).toBeUndefined();
    expect(registry.size).toBe(5);
  });
});

describe('registry.accepts (routes that name their function)', () => {
  const registry = createFunctionRegistry([
    fn('orders.get', 'GET', '/orders/{id}'),
    { name: 'named.only', requireMtls: false, mode: 'enforce', singleUse: false, allow: [] },
  ]);
  const get = registry.byName('orders.get') as FunctionConfig;
  const named = registry.byName('named.only') as FunctionConfig;
  it.each([
    { name: 'matching method and path', target: get, method: 'GET', path: '/orders/42', want: true },
    { name: 'other method', target: get, method: 'DELETE', path: '/orders/42', want: false },
    { name: 'other path', target: get, method: 'GET', path: '/admin/42', want: false },
    { name: 'non-canonical path', target: get, method: 'GET', path: '/orders/%2e%2e', want: false },
    { name: 'function without match, any canonical path', target: named, method: 'POST', path: '/anything', want: true },
    { name: 'function without match, dot-dot path', target: named, method: 'POST', path: '/x/../admin', want: false },
  ])('$name', ({ target, method, path, want }) => {
    expect(registry.accepts(target, method, path)).toBe(want);
  });
});
