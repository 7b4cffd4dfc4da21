import { describe, expect, it } from 'vitest';
import { isLoopbackHost, splitListen } from '../../../src/admin/admin-address.js';

describe('splitListen', () => {
  it.each([
    { listen: '127.0.0.1:9192', host: '127.0.0.1', port: 9192 },
    { listen: '[::1]:0', host: '::1', port: 0 },
    { listen: 'localhost:80', host: 'localhost', port: 80 },
  ])('$listen', ({ listen, host, port }) => {
    expect(splitListen(listen)).toEqual({ host, port });
  });
});

describe('isLoopbackHost', () => {
  it.each([
    { host: '127.0.0.1', loopback: true },
    { host: '127.255.0.9', loopback: true },
    { host: '::1', loopback: true },
    { host: '0:0:0:0:0:0:0:1', loopback: true },
    { host: 'localhost', loopback: true },
    { host: 'LOCALHOST', loopback: true },
    { host: '0.0.0.0', loopback: false },
    { host: '::', loopback: false },
    { host: '10.0.0.5', loopback: false },
    { host: '128.0.0.1', loopback: false },
    { host: 'localhost.example.com', loopback: false },
    { host: 'callguard', loopback: false },
  ])('$host: $loopback', ({ host, loopback }) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
});
