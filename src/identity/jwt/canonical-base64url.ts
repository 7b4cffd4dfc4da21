// RFC 4648 §5: the URL- and filename-safe alphabet; RFC 7515 §2: no padding, no other character.
const ALPHABET = /^[A-Za-z0-9_-]*$/;

/** The 6-bit value of each base64url character, by char code; -1 outside the alphabet. */
const SEXTET = new Int8Array(128).fill(-1);
for (const [index, char] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'].entries()) {
  SEXTET[char.charCodeAt(0)] = index;
}

/**
 * Whether `segment` is the one base64url encoding of its bytes: what an encoder emits, so decoding and
 * re-encoding gives back the same string. Without this, several strings decode to the same bytes (Node's
 * decoder ignores padding, `+`, `/` and the unused low bits), and a token would have several spellings.
 *
 * Equivalent to `Buffer.from(s, 'base64url').toString('base64url') === s` (a differential test holds
 * them together) without decoding: only the alphabet, the length and the last character can differ.
 */
export function isCanonicalBase64url(segment: string): boolean {
  if (!ALPHABET.test(segment)) return false;
  // RFC 4648 §5 (a final quantum): 2 or 3 characters carry 1 or 2 bytes; 1 character carries none.
  const tail = segment.length % 4;
  if (tail === 0) return true;
  if (tail === 1) return false;
  // RFC 4648 §3.5: the bits of the last character that hold no byte (4 of them after 2 characters,
  // 2 after 3) must be zero, or the same bytes have 16 (or 4) spellings.
  const last = SEXTET[segment.charCodeAt(segment.length - 1)] ?? -1;
  return (last & (tail === 2 ? 0b1111 : 0b11)) === 0;
}
