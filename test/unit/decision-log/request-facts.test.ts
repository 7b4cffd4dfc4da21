import { describe, expect, it } from 'vitest';
import type { FunctionConfig } from '../../../src/config/types.js';
import { createRequestFacts, safeHost, safeMediaType, safeMethod, safePointer, safeToken } from '../../../src/decision-log/request-facts.js';

describe('safeHost: the single authority Envoy routed on, or a flag', () => {
  it.each([
    { name: 'name', host: 'functions.internal', want: { host: 'functions.internal' } },
    { name: 'name and port', host: 'Functions.Internal:8443', want: { host: 'functions.internal:8443' } },
    { name: 'IPv4 and port', host: '10.0.0.1:443', want: { host: '10.0.0.1:443' } },
    { name: 'IPv6 literal', host: '[::1]:8443', want: { host: '[::1]:8443' } },
    { name: 'two Host headers joined by Envoy', host: 'localhost,SECRET-abc', want: { problem: 'multiple values' } },
    { name: 'comma and space', host: 'a.example, b.example', want: { problem: 'multiple values' } },
    { name: 'userinfo', host: 'user:SECRET@functions.internal', want: { problem: 'not a host name' } },
    { name: 'path in host', host: 'functions.internal/SECRET', want: { problem: 'not a host name' } },
    { name: 'percent-encoded', host: 'fn%2einternal', want: { problem: 'not a host name' } },
    { name: 'empty', host: '', want: { problem: 'not a host name' } },
    { name: 'label too long', host: `${'a'.repeat(64)}.example`, want: { problem: 'not a host name' } },
  ])('$name', ({ host, want }) => {
    expect(safeHost(host)).toEqual(want);
  });
});

describe('safeMethod and safeToken', () => {
  it.each([
    { value: 'POST', method: 'POST' },
    { value: 'SECRET', method: 'OTHER' },
    { value: 'get', method: 'OTHER' },
  ])('method $value → $method', ({ value, method }) => {
    expect(safeMethod(value)).toBe(method);
  });
  it.each([
    { value: '5f0c7a1e-0b7e-4d7a-9a55-2b0c0f3e9d11', want: '5f0c7a1e-0b7e-4d7a-9a55-2b0c0f3e9d11' },
    { value: 'req 1; token=x', want: '[redacted]' },
    { value: 'x'.repeat(65), want: '[redacted]' },
  ])('request id $value', ({ value, want }) => {
    expect(safeToken(value)).toBe(want);
  });
});

const fn = (name: string, path: string, logParams: string[] = []): FunctionConfig => ({
  name,
  match: { method: 'GET', path, logParams },
  requireMtls: false,
  mode: 'enforce',
  singleUse: false,
  allow: [],
});

describe('createRequestFacts: the template and only the loggable parameters', () => {
  const describeRequest = createRequestFacts([
    fn('orders.get', '/orders/{id}', ['id']),
    fn('items.get', '/orders/{order}/items/{item}', ['item']),
    fn('notes.get', '/notes/{id}'),
    { name: 'named', requireMtls: false, mode: 'enforce', singleUse: false, allow: [] },
  ]);
  it.each([
    { name: 'loggable parameter', fn: 'orders.get', path: '/orders/42', want: { route: '/orders/{id}', params: { id: '42' } } },
    { name: 'matrix parameters are cut', fn: 'orders.get', path: '/orders/42;token=SECRET', want: { route: '/orders/{id}', params: { id: '42' } } },
    { name: 'unsafe value redacted', fn: 'orders.get', path: '/orders/a%20SECRET', want: { route: '/orders/{id}', params: { id: '[redacted]' } } },
    { name: 'query never', fn: 'orders.get', path: '/orders/42?api_key=SECRET', want: { route: '/orders/{id}', params: { id: '42' } } },
    {
      name: 'only the listed parameter',
      fn: 'items.get',
      path: '/orders/SECRET/items/7',
      want: { route: '/orders/{order}/items/{item}', params: { item: '7' } },
    },
    { name: 'no loggable parameter', fn: 'notes.get', path: '/notes/SECRET', want: { route: '/notes/{id}' } },
    { name: 'function named by the route', fn: 'named', path: '/anything/SECRET', want: { route: null } },
    { name: 'unknown function', fn: undefined, path: '/SECRET/x', want: { route: null } },
  ])('$name', ({ fn: name, path, want }) => {
    const facts = describeRequest(name, 'GET', path, 'functions.internal');
    expect(facts).toEqual({ method: 'GET', host: 'functions.internal', ...want });
    expect(JSON.stringify(facts)).not.toContain('SECRET');
  });
});

describe("safePointer and safeMediaType: body key names and content types are the caller's", () => {
  it.each([
    { pointer: '/items/3/sku', want: '/items/3/sku' },
    { pointer: '/labels/sk-live-ABC 123', want: '/labels/*' },
    { pointer: '/a~1b/c', want: '/*/c' },
    { pointer: `/${'k'.repeat(65)}`, want: '/*' },
    { pointer: `${'/abc'.repeat(100)}`, want: `${'/abc'.repeat(64)}…` },
  ])('$pointer', ({ pointer, want }) => {
    expect(safePointer(pointer)).toBe(want);
  });
  it.each([
    { essence: 'application/json', want: 'application/json' },
    { essence: 'application/x-sk-live-123', want: 'other' },
  ])('$essence', ({ essence, want }) => {
    expect(safeMediaType(essence)).toBe(want);
  });
});
