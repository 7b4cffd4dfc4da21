/**
 * Who is calling, as verified by callguard: a tagged union, one kind per authenticator, with the
 * fields every kind has (rules, upstream headers and the decision record read only those, plus
 * `attributes` for claim rules).
 */
export type CredentialKind = Principal['kind'];

interface PrincipalBase {
  /** Config name of the identity source that verified it (issuer entry, SAML IdP, key store). */
  readonly source: string;
  /** Who vouches for it: the token's `iss`, the IdP's entity ID, the key store, the trust domain. */
  readonly issuer: string;
  readonly subject: string;
  readonly groups: readonly string[];
  /** What claim rules match against: the token's claims, the assertion's attributes, the key's record. */
  readonly attributes: Readonly<Record<string, unknown>>;
}

export interface JwtPrincipal extends PrincipalBase {
  readonly kind: 'jwt';
  /** The token's `jti`, when it has one. */
  readonly jti?: string;
  /** sha256 (base64url, first 16 bytes) of the token: correlates without being replayable. */
  readonly tokenHash: string;
  /** `exp`, seconds since the epoch. */
  readonly expiresAt: number;
  /** Presented with a proof of its key (`Authorization: DPoP` and a valid proof): its `cnf.jkt` holds. */
  readonly proofOfPossession?: 'dpop';
}

export interface MtlsPrincipal extends PrincipalBase {
  readonly kind: 'mtls';
  /** The SPIFFE ID from the verified client certificate's single URI SAN (also `subject`). */
  readonly spiffeId: string;
  /** Also `issuer`. */
  readonly trustDomain: string;
}

export interface ApiKeyPrincipal extends PrincipalBase {
  readonly kind: 'apiKey';
  /** The key's record id (never the key or its hash). */
  readonly keyId: string;
  /** Also `subject`. */
  readonly owner: string;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
  /** When set, the only functions this key may call (on top of the rules). */
  readonly functions?: readonly string[];
}

export interface SamlPrincipal extends PrincipalBase {
  readonly kind: 'saml';
  /** The assertion's `ID`. */
  readonly assertionId: string;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
}

export type Principal = JwtPrincipal | MtlsPrincipal | ApiKeyPrincipal | SamlPrincipal;

/** A principal a caller presents in a request header (as opposed to the connection's mTLS peer). */
export type CredentialPrincipal = Exclude<Principal, MtlsPrincipal>;

/** The verified caller: the connection's mTLS peer, the credential it presented, or both; never neither. */
export interface Caller {
  readonly peer?: MtlsPrincipal;
  readonly credential?: CredentialPrincipal;
}
