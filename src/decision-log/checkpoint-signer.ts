import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * Signed checkpoints: every so often the log appends a `decision-log-checkpoint` line whose Ed25519
 * signature covers its own `seq` and `prev` (the hash of the line before it, which commits to the
 * whole chain before that). Whoever can rewrite the log file cannot re-sign it without the key.
 */
export interface CheckpointSigner {
  /** First 16 bytes of SHA-256 over the public key's SPKI DER, base64url: names the key in each checkpoint. */
  readonly keyId: string;
  sign(seq: number, prev: string | null): string;
}

/** The signed message; a fixed prefix keeps the key from signing anything else by accident. */
export function checkpointMessage(seq: number, prev: string | null): Buffer {
  return Buffer.from(`callguard-decision-log-checkpoint\n${seq}\n${prev ?? ''}`, 'utf8');
}

export function keyIdOf(key: KeyObject): string {
  const spki = publicOf(key).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest().subarray(0, 16).toString('base64url');
}

/** Loads an Ed25519 private key (PKCS#8 PEM); throws a plain Error saying what is wrong with the file. */
export function loadCheckpointSigner(keyFile: string): CheckpointSigner {
  const key = createPrivateKey(readFileSync(keyFile));
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(`${JSON.stringify(keyFile)} is a ${key.asymmetricKeyType ?? 'non-asymmetric'} key; checkpoints need an Ed25519 private key`);
  const keyId = keyIdOf(key);
  return { keyId, sign: (seq, prev) => sign(null, checkpointMessage(seq, prev), key).toString('base64url') };
}

/** Verifies a checkpoint's signature with an Ed25519 public (or private) key. */
export function verifyCheckpoint(key: KeyObject, seq: number, prev: string | null, signature: string): boolean {
  try {
    return verify(null, checkpointMessage(seq, prev), publicOf(key), Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}

function publicOf(key: KeyObject): KeyObject {
  return key.type === 'public' ? key : createPublicKey(key);
}
