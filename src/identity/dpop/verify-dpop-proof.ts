import { createHash } from 'node:crypto';
import { decodeProtectedHeader, errors, type JWK, jwtVerify } from 'jose';
import { fail, type Result } from '../../failure.js';
import type { ProofKey, ProofKeyCache } from './proof-key-cache.js';

/** What a DPoP proof is checked against: the request as Envoy reported it, and the access token it comes with. */
export interface ProofContext {
  readonly method: string;
  /** `https://host[:port]/path`, no query or fragment (RFC 9449 §4.3 `htu`). */
  readonly url: string;
  readonly accessToken: string;
  readonly nowMs: number;
}

export interface ProofPolicy {
  readonly algorithms: readonly string[];
  /** How old (by `iat`) a proof may be; also how far in the future, with the skew. */
  readonly maxAgeSeconds: number;
  readonly clockSkewSeconds: number;
}

/** A proof that checks out: its key's thumbprint (to compare with the token's `cnf.jkt`) and its `jti`. */
export interface VerifiedProof {
  readonly jkt: string;
  readonly jti: string;
  /** Seconds since the epoch. */
  readonly iat: number;
}

const MAX_PROOF_BYTES = 8192;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const invalid = (detail: string, internal?: string) => fail('ERR_DPOP_PROOF', detail, internal);

/**
 * RFC 9449 §4.3: the proof is a JWT with `typ: dpop+jwt`, an allowed asymmetric `alg`, a public `jwk`
 * in its header (no private members, at most 4096-bit RSA), signed by that key; `htm` and `htu` equal
 * the request's method and URL (no query, no fragment); `iat` within `maxAgeSeconds` (with skew); a
 * `jti`; and `ath` = base64url(SHA-256(access token)) (§4.3 point 10). Single use of `jti` is the
 * caller's to enforce (a replay store). Server-provided nonces (§8) are not used: see README.
 */
export async function verifyDpopProof(proof: string, context: ProofContext, policy: ProofPolicy, keys: ProofKeyCache): Promise<Result<VerifiedProof>> {
  if (proof.length > MAX_PROOF_BYTES) return invalid(`the DPoP proof is longer than ${MAX_PROOF_BYTES} bytes`);
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    return invalid('the DPoP proof is not a JWS');
  }
  if (header.typ !== 'dpop+jwt') return invalid('the DPoP proof must have typ "dpop+jwt"');
  if (typeof header.alg !== 'string' || !policy.algorithms.includes(header.alg)) return invalid('the DPoP proof algorithm is not allowed');
  const jwk = header.jwk as JWK | undefined;
  if (jwk === undefined || typeof jwk !== 'object' || jwk === null) return invalid('the DPoP proof has no "jwk" header');
  if (PRIVATE_MEMBERS.some((member) => Object.hasOwn(jwk, member))) return invalid('the DPoP proof key must be a public key');
  if (jwk.kty === 'RSA' && typeof jwk.n === 'string' && jwk.n.length > 683) return invalid('the DPoP proof key is too large'); // > 4096 bits
  let payload: Record<string, unknown>;
  let proofKey: ProofKey;
  try {
    proofKey = await keys.get(header.alg, jwk);
    payload = (await jwtVerify(proof, proofKey.key, { typ: 'dpop+jwt', algorithms: [...policy.algorithms], currentDate: new Date(context.nowMs) })).payload;
  } catch (error) {
    if (error instanceof errors.JWSSignatureVerificationFailed) return invalid('the DPoP proof signature does not verify');
    return invalid('the DPoP proof is not valid', error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  }
  if (typeof payload['jti'] !== 'string' || payload['jti'] === '' || payload['jti'].length > 256) return invalid('the DPoP proof needs a "jti"');
  if (payload['htm'] !== context.method) return invalid('the DPoP proof is for another method ("htm")');
  if (typeof payload['htu'] !== 'string' || normalizeUrl(payload['htu']) !== context.url) return invalid('the DPoP proof is for another URL ("htu")');
  const iat = payload['iat'];
  if (typeof iat !== 'number') return invalid('the DPoP proof needs an "iat"');
  const now = context.nowMs / 1000;
  if (iat > now + policy.clockSkewSeconds || iat < now - policy.maxAgeSeconds - policy.clockSkewSeconds)
    return invalid('the DPoP proof is too old or from the future ("iat")');
  const ath = createHash('sha256').update(context.accessToken).digest('base64url');
  if (payload['ath'] !== ath) return invalid('the DPoP proof is for another access token ("ath")');
  return { ok: true, value: { jkt: proofKey.jkt, jti: payload['jti'], iat } };
}

/** RFC 9449 §4.3 point 9 with RFC 3986 §6.2.2–6.2.3: lower-case scheme and host, no default port, no query or fragment. */
export function normalizeUrl(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  const port = url.port === '' || (url.protocol === 'https:' && url.port === '443') || (url.protocol === 'http:' && url.port === '80') ? '' : `:${url.port}`;
  return `${url.protocol}//${url.hostname}${port}${url.pathname}`;
}
