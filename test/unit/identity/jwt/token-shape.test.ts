import { describe, expect, it } from 'vitest';
import { inspectToken } from '../../../../src/identity/jwt/token-shape.js';
import { encodeSegment, forgeToken } from '../../../helpers/jwt-issuer.js';
import { withUnusedBits } from '../../../helpers/raw-jws.js';

const header = { alg: 'RS256', kid: 'k1' };
const payload = { iss: 'https://issuer.test', sub: 'user-1', exp: 2_000_000_000 };
const valid = forgeToken(header, payload);
const [h, p, s] = valid.split('.') as [string, string, string];
const raw = (text: string) => Buffer.from(text).toString('base64url');
// A payload segment of length 4n, then one more character: Buffer would ignore it, we must not.
const aligned = raw(`${JSON.stringify(payload)}${' '.repeat((3 - (JSON.stringify(payload).length % 3)) % 3)}`);

describe('inspectToken', () => {
  it('returns the unverified header, payload, alg and iss of a well-formed token', () => {
    const result = inspectToken(valid, 8192);
    expect(result).toEqual({ ok: true, shape: { header, payload, alg: 'RS256', iss: payload.iss, signingInput: `${h}.${p}` } });
    expect(inspectToken(`${h}.${aligned}.${s}`, 8192).ok).toBe(true);
  });

  it.each([
    { name: 'bad base64url character', token: `${h}.${p}*.${s}` },
    { name: 'standard base64 character', token: `${h}.${p}+.${s}` },
    { name: 'padding "="', token: `${h}=.${p}.${s}` },
    { name: 'two segments', token: `${h}.${p}` },
    { name: 'four segments', token: `${h}.${p}.${s}.${s}` },
    { name: 'empty header segment', token: `.${p}.${s}` },
    { name: 'empty payload segment', token: `${h}..${s}` },
    { name: 'empty signature segment', token: `${h}.${p}.` },
    { name: 'whitespace', token: `${h}.${p}.${s} ` },
    { name: 'impossible base64url length', token: `${h}.${aligned}A.${s}` },
    { name: 'oversized', token: `${h}.${'A'.repeat(9000)}.${s}` },
    { name: 'header not JSON', token: `${raw('{alg: RS256')}.${p}.${s}` },
    { name: 'header a JSON array', token: `${encodeSegment(['RS256'])}.${p}.${s}` },
    { name: 'header JSON null', token: `${encodeSegment(null)}.${p}.${s}` },
    { name: 'payload not JSON', token: `${h}.${raw('not json')}.${s}` },
    { name: 'payload a JSON string', token: `${h}.${encodeSegment('sub')}.${s}` },
    { name: 'payload not UTF-8', token: `${h}.${Buffer.from([0xff, 0xfe, 0x7b, 0x7d]).toString('base64url')}.${s}` },
    { name: 'alg missing', token: forgeToken({ kid: 'k1' }, payload) },
    { name: 'alg not a string', token: forgeToken({ alg: 256 }, payload) },
    { name: 'crit present', token: forgeToken({ ...header, crit: ['exp'], exp: 1 }, payload) },
  ])('rejects $name as ERR_TOKEN_MALFORMED', ({ token }) => {
    const result = inspectToken(token, 8192);
    expect(result.ok ? undefined : result.code).toBe('ERR_TOKEN_MALFORMED');
    if (!result.ok) expect(result.detail).not.toContain(token);
  });

  it.each([
    { name: 'alg none', alg: 'none' },
    { name: 'alg None', alg: 'None' },
    { name: 'alg NONE', alg: 'NONE' },
  ])('rejects $name as ERR_TOKEN_ALGORITHM', ({ alg }) => {
    const result = inspectToken(forgeToken({ alg }, payload, 'x'), 8192);
    expect(result.ok ? undefined : result.code).toBe('ERR_TOKEN_ALGORITHM');
  });

  it.each([
    { name: 'iss missing', claims: { sub: 'user-1' } },
    { name: 'iss a number', claims: { iss: 42 } },
    { name: 'iss an array', claims: { iss: ['https://issuer.test'] } },
  ])('rejects $name as ERR_TOKEN_ISSUER', ({ claims }) => {
    const result = inspectToken(forgeToken(header, claims), 8192);
    expect(result.ok ? undefined : result.code).toBe('ERR_TOKEN_ISSUER');
  });

  // RFC 7515 §4 / RFC 7519 §4 allow refusing or keeping the last; jose keeps the last, so we refuse.
  const rawToken = (headerText: string, claimsText: string) => `${raw(headerText)}.${raw(claimsText)}.${s}`;
  const claimsText = '"iss":"https://issuer.test","sub":"user-1","exp":2000000000';
  it.each([
    { name: 'alg none, then RS256', token: rawToken('{"alg":"none","kid":"k1","alg":"RS256"}', `{${claimsText}}`), part: 'the JOSE header' },
    { name: 'alg twice, same value', token: rawToken('{"alg":"RS256","alg":"RS256"}', `{${claimsText}}`), part: 'the JOSE header' },
    { name: 'kid twice', token: rawToken('{"alg":"RS256","kid":"k1","kid":"k2"}', `{${claimsText}}`), part: 'the JOSE header' },
    { name: 'sub twice', token: rawToken('{"alg":"RS256"}', `{${claimsText},"sub":"admin"}`), part: 'the claims' },
    { name: 'exp twice', token: rawToken('{"alg":"RS256"}', `{${claimsText},"exp":9999999999}`), part: 'the claims' },
    { name: 'groups twice', token: rawToken('{"alg":"RS256"}', `{"groups":["users"],${claimsText},"groups":["admins"]}`), part: 'the claims' },
    { name: 'iss twice', token: rawToken('{"alg":"RS256"}', `{${claimsText},"iss":"https://other.test"}`), part: 'the claims' },
    { name: 'sub twice, one escaped', token: rawToken('{"alg":"RS256"}', `{${claimsText},"s\\u0075b":"admin"}`), part: 'the claims' },
    {
      name: 'inside a nested object',
      token: rawToken('{"alg":"RS256"}', `{${claimsText},"realm_access":{"roles":["user"],"roles":["admin"]}}`),
      part: 'the claims',
    },
    { name: 'inside an object in an array', token: rawToken('{"alg":"RS256"}', `{${claimsText},"orgs":[{"id":1},{"id":2,"id":3}]}`), part: 'the claims' },
    { name: 'inside a nested header member', token: rawToken('{"alg":"RS256","jwk":{"kty":"EC","kty":"RSA"}}', `{${claimsText}}`), part: 'the JOSE header' },
  ])('rejects a duplicate member name ($name) as ERR_TOKEN_MALFORMED', ({ token, part }) => {
    const result = inspectToken(token, 8192);
    expect(result.ok ? undefined : result.code).toBe('ERR_TOKEN_MALFORMED');
    if (!result.ok) expect(result.detail).toMatch(new RegExp(`^duplicate member name in ${part} \\(RFC 751[59] §4\\)$`));
  });

  // RFC 7515 §2 (no padding, no other characters) and RFC 4648 §3.5 (unused bits zero): one spelling.
  const signature = Buffer.alloc(32, 7).toString('base64url'); // 43 characters: 2 unused bits
  const at = (segment: 'header' | 'payload' | 'signature', spell: (original: string) => string) =>
    segment === 'header' ? `${spell(h)}.${p}.${signature}` : segment === 'payload' ? `${h}.${spell(p)}.${signature}` : `${h}.${p}.${spell(signature)}`;
  describe.each(['header', 'payload', 'signature'] as const)('non-canonical base64url in the %s', (segment) => {
    it.each([
      { name: 'unused bits set in the last character', spell: withUnusedBits },
      { name: 'padding "="', spell: (x: string) => `${x}${'='.repeat((4 - (x.length % 4)) % 4)}` },
      { name: 'a single "="', spell: (x: string) => `${x}=` },
      { name: 'standard base64 "+"', spell: (x: string) => `${x.slice(0, 2)}+${x.slice(3)}` },
      { name: 'standard base64 "/"', spell: (x: string) => `${x.slice(0, 2)}/${x.slice(3)}` },
      { name: 'a length of 4n+1', spell: (x: string) => `${x.slice(0, x.length - (x.length % 4))}A` },
      { name: 'a line break', spell: (x: string) => `${x.slice(0, 4)}\n${x.slice(4)}` },
    ])('rejects $name as ERR_TOKEN_MALFORMED, naming the segment', ({ spell }) => {
      const canonical = at(segment, (x) => x);
      expect(inspectToken(canonical, 8192).ok).toBe(true);
      const result = inspectToken(at(segment, spell), 8192);
      expect(result.ok ? undefined : result.code).toBe('ERR_TOKEN_MALFORMED');
      if (!result.ok) expect(result.detail).toBe(`the token ${segment} is not canonical base64url (RFC 7515 §2, RFC 4648 §3.5)`);
    });
  });

  it.each([
    { name: 'a claim beyond 2^53 (jose reads it rounded, as before)', claims: `{${claimsText},"uid":12345678901234567890}`, ok: true },
    { name: 'a claim with 17 significant digits', claims: `{${claimsText},"ratio":0.12345678901234567}`, ok: true },
    { name: 'claims nested 32 deep', claims: `{${claimsText},"x":${'['.repeat(31)}${']'.repeat(31)}}`, ok: true },
    { name: 'claims nested 33 deep', claims: `{${claimsText},"x":${'['.repeat(32)}${']'.repeat(32)}}`, ok: false },
    { name: 'a lone surrogate escape (RFC 8259 §8.2)', claims: `{${claimsText},"name":"\\ud800"}`, ok: false },
    { name: 'a byte order mark (RFC 8259 §8.1)', claims: `\ufeff{${claimsText}}`, ok: false },
    { name: 'a trailing comma', claims: `{${claimsText},}`, ok: false },
  ])('reads claims as strict JSON: $name', ({ claims, ok }) => {
    const result = inspectToken(rawToken('{"alg":"RS256"}', claims), 8192);
    expect(result.ok ? 'ok' : result.code).toBe(ok ? 'ok' : 'ERR_TOKEN_MALFORMED');
    if (!result.ok) expect(result.detail).toMatch(/^the token payload is not a JSON object \(.+\)$/);
  });

  it('accepts a token exactly at the size limit', () => {
    expect(inspectToken(valid, valid.length).ok).toBe(true);
    expect(inspectToken(valid, valid.length - 1).ok).toBe(false);
  });
});
