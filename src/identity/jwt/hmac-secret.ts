import { readFile } from 'node:fs/promises';
import type { ConfigProblem } from '../../errors.js';
import { checkHmacSecret, HMAC_MIN_SECRET_BYTES } from './key-hygiene.js';

/**
 * Reads the shared secret for HS* tokens. One trailing newline (as editors and `echo` write) is not
 * part of the secret. The secret must be long enough for every HS* algorithm the issuer allows
 * (RFC 7518 §3.2: HS256 32 bytes, HS384 48, HS512 64); a short or unreadable file is a ConfigProblem
 * naming the file, the algorithm it is too short for and those it would serve.
 */
export async function readHmacSecret(file: string, path: string, algorithms: readonly string[]): Promise<Uint8Array | ConfigProblem> {
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
  // The most demanding allowed algorithm decides, so the problem names the length that clears it.
  const strictest = algorithms.reduce((best, alg) => ((HMAC_MIN_SECRET_BYTES[alg] ?? 0) > (HMAC_MIN_SECRET_BYTES[best] ?? 0) ? alg : best), 'HS256');
  const failing = checkHmacSecret(secret, strictest);
  if (failing.ok) return secret;
  const enough = Object.keys(HMAC_MIN_SECRET_BYTES).filter((alg) => checkHmacSecret(secret, alg).ok);
  const serves = enough.length > 0 ? `; it is long enough only for ${enough.join(', ')}` : '';
  return { file, path, message: `${failing.reason}${serves}` };
}
