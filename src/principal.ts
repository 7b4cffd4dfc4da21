/** Who is calling, as verified by callguard. Either part may be absent, not both. */
export interface Principal {
  readonly jwt?: JwtIdentity;
  readonly peer?: PeerIdentity;
}

export interface JwtIdentity {
  /** Name of the issuer entry in the config. */
  readonly issuerName: string;
  /** The token's `iss`. */
  readonly issuer: string;
  readonly subject: string;
  readonly groups: readonly string[];
  /** The token's `jti`, when it has one. */
  readonly jti?: string;
  /** sha256 (base64url, first 16 bytes) of the token: correlates without being replayable. */
  readonly tokenHash: string;
  /** `exp`, seconds since the epoch. */
  readonly expiresAt: number;
}

export interface PeerIdentity {
  /** The SPIFFE ID from the verified client certificate's single URI SAN. */
  readonly spiffeId: string;
  readonly trustDomain: string;
}
