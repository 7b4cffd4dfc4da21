import { crc32 } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_KEY_LENGTH, API_KEY_PREFIX, generateApiKey, hashApiKey, isWellFormedApiKey, newKeyId } from '../../../../src/identity/api-key/api-key-format.js';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Another base62 character than `c` (any one-character change). */
const other = (c: string): string => ALPHABET[(ALPHABET.indexOf(c) + 1) % 62] as string;
const replaceAt = (s: string, i: number, c: string): string => s.slice(0, i) + c + s.slice(i + 1);
/** The 6-character base62 CRC-32 the format appends, computed independently of the code under test. */
function checksumOf(head: string): string {
  let value = crc32(head);
  let out = '';
  for (let i = 0; i < 6; i++) {
    out = ALPHABET[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

let key: string;
beforeAll(() => {
  key = generateApiKey().key;
});

describe('generateApiKey', () => {
  it('makes well-formed 53-character keys: cgk_ + 43 base62 + 6 base62 checksum', () => {
    expect(API_KEY_LENGTH).toBe(53);
    expect(key).toMatch(/^cgk_[0-9A-Za-z]{49}$/);
    expect(key).toHaveLength(53);
    expect(key.startsWith(API_KEY_PREFIX)).toBe(true);
    expect(key.slice(-6)).toBe(checksumOf(key.slice(0, -6)));
    expect(isWellFormedApiKey(key)).toBe(true);
  });

  it('never repeats a key or a hash, and returns the hash of the key it returns', () => {
    const generated = Array.from({ length: 500 }, () => generateApiKey());
    for (const g of generated) {
      expect(isWellFormedApiKey(g.key)).toBe(true);
      expect(g.hash).toBe(hashApiKey(g.key));
    }
    expect(new Set(generated.map((g) => g.key)).size).toBe(500);
    expect(new Set(generated.map((g) => g.hash)).size).toBe(500);
  });
});

describe('isWellFormedApiKey: refused before any lookup when not', () => {
  it.each([
    { name: 'first body character changed', value: () => replaceAt(key, 4, other(key[4] as string)) },
    { name: 'middle body character changed', value: () => replaceAt(key, 25, other(key[25] as string)) },
    { name: 'last body character changed', value: () => replaceAt(key, 46, other(key[46] as string)) },
    { name: 'first checksum character changed', value: () => replaceAt(key, 47, other(key[47] as string)) },
    { name: 'last checksum character changed', value: () => replaceAt(key, 52, other(key[52] as string)) },
    { name: 'case of a letter flipped', value: () => key.replace(/[A-Za-z](?=[^_]*$)/, (c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())) },
    {
      name: 'two characters swapped',
      value: () => (key[10] === key[11] ? replaceAt(key, 10, other(key[10] as string)) : key.slice(0, 10) + key[11] + key[10] + key.slice(12)),
    },
    { name: 'wrong prefix (valid checksum for it)', value: () => `cgx_${key.slice(4, -6)}${checksumOf(`cgx_${key.slice(4, -6)}`)}` },
    { name: 'upper-case prefix', value: () => `CGK_${key.slice(4)}` },
    { name: 'no prefix', value: () => key.slice(4) },
    { name: 'one character short (valid checksum for it)', value: () => `${key.slice(0, 46)}${checksumOf(key.slice(0, 46))}` },
    { name: 'one character long (valid checksum for it)', value: () => `${key.slice(0, 47)}a${checksumOf(`${key.slice(0, 47)}a`)}` },
    { name: 'trailing newline', value: () => `${key}\n` },
    { name: 'leading space', value: () => ` ${key.slice(0, -1)}` },
    {
      name: 'non-base62 character (valid checksum for it)',
      value: () => `${key.slice(0, 20)}-${key.slice(21, 47)}${checksumOf(`${key.slice(0, 20)}-${key.slice(21, 47)}`)}`,
    },
    { name: 'non-ASCII digit', value: () => replaceAt(key, 30, '٣') },
    { name: 'checksum of another key', value: () => key.slice(0, 47) + generateApiKey().key.slice(47) },
    { name: 'all-zero checksum', value: () => `${key.slice(0, 47)}000000` },
    { name: 'empty', value: () => '' },
    { name: 'a JWT', value: () => 'eyJhbGciOiJFUzI1NiJ9.e30.c2lnbmF0dXJl' },
  ])('$name', ({ value }) => {
    const presented = value();
    expect(presented).not.toBe(key);
    expect(isWellFormedApiKey(presented)).toBe(false);
  });

  it('a single-character change anywhere in the key is caught (CRC-32 detects every single-symbol error)', () => {
    for (let i = API_KEY_PREFIX.length; i < key.length; i++) {
      for (const c of [other(key[i] as string), other(other(key[i] as string))]) expect(isWellFormedApiKey(replaceAt(key, i, c)), `position ${i}`).toBe(false);
    }
  });
});

describe('hashApiKey', () => {
  it('is sha256: + 43 base64url characters, deterministic, and reveals nothing of the key', () => {
    const hash = hashApiKey(key);
    expect(hash).toMatch(/^sha256:[A-Za-z0-9_-]{43}$/);
    expect(hashApiKey(key)).toBe(hash);
    expect(hash).not.toContain(key.slice(4, 20));
    expect(hashApiKey(replaceAt(key, 10, other(key[10] as string)))).not.toBe(hash);
  });

  it('matches a known SHA-256 value', () => {
    // echo -n abc | sha256sum → ba7816bf…15ad, base64url-encoded
    expect(hashApiKey('abc')).toBe('sha256:ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });
});

describe('newKeyId', () => {
  it('is key_ + 12 base62 characters and unique', () => {
    const ids = Array.from({ length: 500 }, newKeyId);
    for (const id of ids) expect(id).toMatch(/^key_[0-9A-Za-z]{12}$/);
    expect(new Set(ids).size).toBe(500);
  });
});
