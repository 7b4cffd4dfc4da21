import type { Ajv2020 } from 'ajv/dist/2020.js';

/**
 * Formats whose ajv-formats check lets through strings the JSON-Schema-Test-Suite (draft 2020-12,
 * optional/format) holds invalid: refused at load, with the reason (bench/results/issue-12-json-schema.md).
 */
export const REFUSED_FORMATS: ReadonlyMap<string, string> = new Map([
  ['uri', 'ajv-formats accepts some invalid URIs (a non-numeric port, brackets in a path); use a pattern'],
  ['uri-reference', 'ajv-formats accepts some invalid URI references (a double quote in a path, two "@"); use a pattern'],
]);

// RFC 3339 §5.6 (date-time: time-hour 00-23, time-numoffset "+hh:mm"; the date itself is ajv-formats' check).
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;
// RFC 3339 Appendix A: dur-year needs dur-month before dur-day, dur-hour needs dur-minute before dur-second.
const DURATION =
  /^P(?:(?:\d+Y(?:\d+M(?:\d+D)?)?|\d+M(?:\d+D)?|\d+D)(?:T(?:\d+H(?:\d+M(?:\d+S)?)?|\d+M(?:\d+S)?|\d+S))?|T(?:\d+H(?:\d+M(?:\d+S)?)?|\d+M(?:\d+S)?|\d+S)|\d+W)$/;
// RFC 4122 §3: the string form alone, not the "urn:uuid:" URN.
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
// RFC 1123 §2.1 LDH label; RFC 5890 §2.3.1: "--" in the 3rd and 4th position marks a reserved (e.g. xn-- IDNA) label.
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** RFC 6570 §2.1: a literal is no control character, DEL included. */
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** A hostname as plain ASCII LDH labels; IDNA A-labels (`xn--`) are refused: their rules are not checked here. */
function isHostname(s: string): boolean {
  if (s.length > 253) return false;
  return s.split('.').every((label) => LABEL.test(label) && label.slice(2, 4) !== '--');
}

const STRICTER: Readonly<Record<string, (s: string) => boolean>> = {
  'date-time': (s) => DATE_TIME.test(s),
  duration: (s) => DURATION.test(s),
  uuid: (s) => UUID.test(s),
  hostname: isHostname,
  'uri-template': (s) => !hasControl(s),
};

/**
 * Tightens ajv-formats' checks where the suite found them accepting invalid strings: the string must
 * pass both ajv-formats' check and ours (linear regular expressions only: they run on callers' strings).
 */
export function addStricterFormats(ajv: Ajv2020): void {
  for (const [name, stricter] of Object.entries(STRICTER)) {
    const original = ajv.formats[name];
    const base = typeof original === 'object' && original !== null && 'validate' in original ? original.validate : original;
    const passes =
      base instanceof RegExp ? (s: string) => base.test(s) : typeof base === 'function' ? (s: string) => (base as (s: string) => boolean)(s) : () => true;
    // Keep `compare` (formatMaximum and the like on date-time).
    const compare = typeof original === 'object' && original !== null && 'compare' in original ? { compare: original.compare } : {};
    ajv.addFormat(name, { type: 'string', validate: (s: string) => stricter(s) && passes(s), ...compare } as Parameters<Ajv2020['addFormat']>[1]);
  }
}
