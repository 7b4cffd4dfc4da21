/**
 * The media type of a `content-type` header (RFC 9110 §8.3.1): `type/subtype *( OWS ";" OWS parameter )`.
 */
export interface MediaType {
  /** `type/subtype`, lower-cased (type and subtype are case-insensitive, RFC 9110 §8.3.1). */
  readonly essence: string;
  /** The `charset` parameter, lower-cased, when present. */
  readonly charset?: string;
}

// RFC 9110 §5.6.2 token; §5.6.4 quoted-string; §5.6.6 parameters (empty ones allowed).
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const QUOTED = '"(?:[\\t !#-\\[\\]-~\\x80-\\xff]|\\\\[\\t -~\\x80-\\xff])*"';
const TYPE = new RegExp(`^[ \\t]*(${TOKEN}/${TOKEN})[ \\t]*`, 'y');
const PARAMETER = new RegExp(`;[ \\t]*(?:(${TOKEN})=(${TOKEN}|${QUOTED}))?[ \\t]*`, 'y');

let lastHeader: string | undefined;
let lastResult: MediaType | undefined;

/**
 * Parses a `content-type` value; undefined when it is not one well-formed media type. The result is
 * immutable and depends only on the text, so the last one is reused (callers send the same value).
 */
export function parseMediaType(header: string): MediaType | undefined {
  if (header === lastHeader) return lastResult;
  const result = parse(header);
  lastHeader = header;
  lastResult = result;
  return result;
}

function parse(header: string): MediaType | undefined {
  TYPE.lastIndex = 0;
  const type = TYPE.exec(header);
  if (type === null) return undefined;
  let charset: string | undefined;
  PARAMETER.lastIndex = TYPE.lastIndex;
  while (PARAMETER.lastIndex < header.length) {
    const param = PARAMETER.exec(header);
    if (param === null) return undefined;
    if (param[1]?.toLowerCase() !== 'charset') continue;
    if (charset !== undefined) return undefined; // two charsets: ambiguous
    const raw = param[2] ?? '';
    charset = (raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/gs, '$1') : raw).toLowerCase();
  }
  const essence = (type[1] ?? '').toLowerCase();
  return Object.freeze(charset === undefined ? { essence } : { essence, charset });
}
