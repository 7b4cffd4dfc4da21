import { readFile } from 'node:fs/promises';
import type { ConfigProblem } from '../../errors.js';

/** RFC 7518 §3.2: an HS256 key must be at least as long as the hash output (256 bits). */
export const MIN_HMAC_SECRET_BYTES = 32;

/**
 * Reads the shared secret for HS* tokens. One trailing newline (as editors and `echo` write) is
 * not part of the secret. A short or unreadable file is a ConfigProblem naming the file.
 */
export async function readHmacSecret(file: string, path: string): Promise<Uint8Array | ConfigProblem> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    return { file, path, message: `cannot read the HMAC secret: ${(error as NodeJS.ErrnoException).code ?? 'error'}` };
  }
  let end = bytes.length;
  if (bytes[end - 1] === 0x0a) end -= 1;
  if (bytes[end - 1] === 0x0d) end -= 1;
  const secret = new Uint8Array(bytes.subarray(0, end));
  if (secret.length < MIN_HMAC_SECRET_BYTES) {
    return { file, path, message: `the HMAC secret has ${secret.length} bytes; at least ${MIN_HMAC_SECRET_BYTES} are required` };
  }
  return secret;
}
