import { fail, type Result } from '../../failure.js';

// RFC 4648 §4: the standard alphabet, with or without `=` padding; no whitespace, no base64url.
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

const malformed = (detail: string, internal?: string) => fail('ERR_SAML_MALFORMED', detail, internal);

/**
 * Decodes the credential of `Authorization: SAML <base64>` into the assertion's XML text. Strict:
 * the size is capped on the base64 text before decoding and on the bytes after, the encoding must be
 * canonical RFC 4648 §4 base64 (§3.5: no non-zero pad bits), and the bytes must be valid UTF-8.
 */
export function decodeSamlCredential(b64: string, maxBytes: number): Result<string> {
  if (b64.length === 0) return malformed('the SAML credential is empty');
  if (b64.length > Math.ceil(maxBytes / 3) * 4) return malformed(`the SAML credential is larger than ${maxBytes} bytes`);
  if (!BASE64.test(b64)) return malformed('the SAML credential is not base64');
  const padded = b64.includes('=');
  if ((padded && b64.length % 4 !== 0) || b64.length % 4 === 1) return malformed('the SAML credential is not base64');
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length > maxBytes) return malformed(`the SAML credential is larger than ${maxBytes} bytes`);
  // RFC 4648 §3.5: a canonical encoding; Buffer.from would silently drop non-zero pad bits.
  if (bytes.toString('base64').replace(/=+$/, '') !== b64.replace(/=+$/, '')) return malformed('the SAML credential is not canonical base64');
  try {
    return { ok: true, value: utf8.decode(bytes) };
  } catch {
    return malformed('the SAML credential is not UTF-8');
  }
}
