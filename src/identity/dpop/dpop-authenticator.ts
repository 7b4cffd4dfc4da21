import type { CallAttempt } from '../../call-attempt.js';
import { type Failure, fail } from '../../failure.js';
import type { JwtPrincipal } from '../../principal.js';
import type { ReplayStore } from '../../replay/replay-store.js';
import type { Authenticator, AuthResult } from '../authenticator.js';
import type { JwtAuthenticator } from '../jwt/jwt-authenticator.js';
import { createProofKeyCache } from './proof-key-cache.js';
import { normalizeUrl, type ProofPolicy, verifyDpopProof } from './verify-dpop-proof.js';

export interface DpopAuthenticatorParts {
  readonly jwt: JwtAuthenticator;
  readonly replay: ReplayStore;
  readonly policy: ProofPolicy;
  readonly now: () => number;
}

/**
 * `Authorization: DPoP <access token>` with a `DPoP: <proof>` header (RFC 9449 §7.1): the token is
 * verified like a Bearer token (cached), must be bound to a key (`cnf.jkt`, §6.1), and comes with a
 * fresh proof signed by that key for this request (§4.3), whose `jti` is accepted once (the replay
 * store). The principal says it was presented with its proof, so the binding check passes it.
 */
export function createDpopAuthenticator(parts: DpopAuthenticatorParts): Authenticator {
  const { jwt, replay, policy, now } = parts;
  const proofKeys = createProofKeyCache();
  return {
    kind: 'jwt',
    scheme: 'dpop',
    headers: [],
    strip: ['dpop'],
    authenticate(token, request) {
      const proof = request?.headers['dpop'];
      // §4.3 point 1: exactly one DPoP header (Envoy joins duplicates with ",", which a JWS never holds).
      if (proof === undefined || proof === '' || proof.includes(',')) return fail('ERR_DPOP_PROOF', 'send exactly one DPoP proof header with a DPoP token');
      const verified = jwt.authenticate(token);
      const withProof = (result: AuthResult): AuthResult | Promise<AuthResult> =>
        result.ok ? checkProof(result.value as JwtPrincipal, token, proof, request as CallAttempt) : result;
      return verified instanceof Promise ? verified.then(withProof) : withProof(verified);
    },
    close() {},
  };

  async function checkProof(principal: JwtPrincipal, token: string, proof: string, request: CallAttempt): Promise<AuthResult> {
    const cnf = principal.attributes['cnf'];
    const jkt = typeof cnf === 'object' && cnf !== null && !Array.isArray(cnf) ? (cnf as Record<string, unknown>)['jkt'] : undefined;
    if (typeof jkt !== 'string') return fail('ERR_TOKEN_BINDING', 'a DPoP token must be bound to its key ("cnf.jkt", RFC 9449 §6.1)');
    const url = normalizeUrl(`https://${request.host}${pathOnly(request.path)}`);
    if (url === undefined) return fail('ERR_DPOP_PROOF', 'the request URL cannot be checked against the DPoP proof');
    const t = now();
    const checked = await verifyDpopProof(proof, { method: request.method, url, accessToken: token, nowMs: t }, policy, proofKeys);
    if (!checked.ok) return checked;
    if (checked.value.jkt !== jkt) return fail('ERR_TOKEN_BINDING', 'the DPoP proof is signed by another key than the token is bound to');
    // A proof is accepted once, for as long as its iat would still be accepted.
    const ttlMs = (checked.value.iat + policy.maxAgeSeconds + 2 * policy.clockSkewSeconds) * 1000 - t;
    const claimed = await replay.claim(`dpop ${jkt} ${checked.value.jti}`, Math.max(1, ttlMs));
    if (claimed !== 'first') return claimed === 'replayed' ? replayedProof : fail('ERR_REPLAY_UNAVAILABLE', 'DPoP proofs cannot be checked right now');
    return { ok: true, value: { ...principal, proofOfPossession: 'dpop' } };
  }
}

const replayedProof: Failure = fail('ERR_DPOP_PROOF', 'this DPoP proof was already used');

function pathOnly(path: string): string {
  const end = path.search(/[?#]/);
  return end === -1 ? path : path.slice(0, end);
}
