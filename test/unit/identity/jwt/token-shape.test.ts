import { describe, expect, it } from 'vitest';
import { inspectToken } from '../../../../src/identity/jwt/token-shape.js';
import { encodeSegment, forgeToken } from '../../../helpers/jwt-issuer.js';

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
    expect(result).toEqual({ ok: true, shape: { header, payload, alg: 'RS256', iss: payload.iss } });
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

  it('accepts a token exactly at the size limit', () => {
    expect(inspectToken(valid, valid.length).ok).toBe(true);
    expect(inspectToken(valid, valid.length - 1).ok).toBe(false);
  });
});
