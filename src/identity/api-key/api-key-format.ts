import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * callguard API keys: `cgk_` + 256 random bits in 43 base62 characters + a 6-character base62
 * CRC-32 of everything before it. Like GitHub's token format: the prefix lets secret scanners find
 * leaked keys, the checksum lets them (and callguard) tell a key from a typo without a lookup, and
 * base62 survives double-click selection and URL encoding.
 */
export const API_KEY_PREFIX = 'cgk_';
const BODY_LENGTH = 43; // 62^43 > 2^256
const CHECK_LENGTH = 6; // 62^6 > 2^32
export const API_KEY_LENGTH = API_KEY_PREFIX.length + BODY_LENGTH + CHECK_LENGTH;
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SHAPE = /^cgk_[0-9A-Za-z]{49}$/;

function base62(value: bigint, width: number): string {
  let out = '';
  for (let i = 0; i < width; i++) {
    out = ALPHABET[Number(value % 62n)] + out;
    value /= 62n;
  }
  return out;
}

function checksum(head: string): string {
  // A CRC-32 fits a double exactly: no BigInt on the per-call path.
  let value = crc32(head);
  let out = '';
  for (let i = 0; i < CHECK_LENGTH; i++) {
    out = ALPHABET[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/** A new key and the hash to store (the key itself is shown once and never stored). */
export function generateApiKey(): { key: string; hash: string } {
  const body = base62(BigInt(`0x${randomBytes(32).toString('hex')}`), BODY_LENGTH);
  const head = API_KEY_PREFIX + body;
  const key = head + checksum(head);
  return { key, hash: hashApiKey(key) };
}

/** Whether a presented value has the key format and a matching checksum: refused before any lookup when not. */
export function isWellFormedApiKey(value: string): boolean {
  if (value.length !== API_KEY_LENGTH || !SHAPE.test(value)) return false;
  const head = value.slice(0, API_KEY_LENGTH - CHECK_LENGTH);
  return checksum(head) === value.slice(API_KEY_LENGTH - CHECK_LENGTH);
}

/**
 * What the keys file stores: `sha256:` + base64url of SHA-256(key). A fast hash is enough for 256
 * random bits (no dictionary to try), and it keeps the lookup O(1) on the hot path.
 */
export function hashApiKey(key: string): string {
  return `sha256:${createHash('sha256').update(key).digest('base64url')}`;
}

/** A short record id, e.g. `key_7Hq2xVb9Lm0p`: names a key in logs and commands, reveals nothing of it. */
export function newKeyId(): string {
  return `key_${base62(BigInt(`0x${randomBytes(9).toString('hex')}`), 12)}`;
}
