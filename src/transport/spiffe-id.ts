/** A parsed SPIFFE ID (SPIFFE-ID spec §2): `spiffe://<trust-domain>/<path>`. */
export interface SpiffeId {
  readonly id: string;
  readonly trustDomain: string;
}

const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const SEGMENT = /^[A-Za-z0-9._-]+$/;

/** Parses strictly: lower-case trust domain, no port/userinfo/query/fragment, no empty, `.` or `..` segments. */
export function parseSpiffeId(value: string): SpiffeId | undefined {
  if (value.length > 2048 || !value.startsWith('spiffe://')) return undefined;
  const rest = value.slice('spiffe://'.length);
  const slash = rest.indexOf('/');
  const trustDomain = slash === -1 ? rest : rest.slice(0, slash);
  if (!TRUST_DOMAIN.test(trustDomain) || trustDomain.length > 255) return undefined;
  if (slash !== -1) {
    const segments = rest.slice(slash + 1).split('/');
    for (const s of segments) {
      if (!SEGMENT.test(s) || s === '.' || s === '..') return undefined;
    }
  }
  return { id: value, trustDomain };
}
