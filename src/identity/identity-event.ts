/** A background event of an identity source worth a log line (key fetches, reloads, expiring keys). */
export interface IdentityEvent {
  readonly level: 'warn' | 'info';
  readonly msg: string;
  /** The identity source's config name. */
  readonly issuer: string;
}
