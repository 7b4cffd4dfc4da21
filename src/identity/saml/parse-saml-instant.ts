import { fail, type Result } from '../../failure.js';
import { attributeValue } from './xml-elements.js';

// SAML core §1.3.3: xs:dateTime in UTC, with the `Z` designator and no other time zone.
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

/**
 * Parses a SAML time instant into milliseconds since the epoch; `undefined` for anything that is not
 * a real UTC instant (a local or offset time, 24:00:00, February 30th, a year before 1970).
 * Fractions beyond milliseconds are truncated.
 */
export function parseSamlInstant(text: string): number | undefined {
  const parts = INSTANT.exec(text);
  if (parts === null) return undefined;
  const [year, month, day, hour, minute, second] = parts.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const millis = Number((parts[7] ?? '').padEnd(3, '0').slice(0, 3));
  if (year < 1970) return undefined;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const date = new Date(ms);
  // Date.UTC rolls over out-of-range fields; a round trip catches them.
  const exact =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second;
  return exact ? ms : undefined;
}

/** An optional instant attribute: absent → `undefined`, present but not a SAML instant → a malformed failure. */
export function readInstantAttribute(element: Element, name: string): Result<number | undefined> {
  const text = attributeValue(element, name);
  if (text === undefined) return { ok: true, value: undefined };
  const ms = parseSamlInstant(text);
  if (ms === undefined) return fail('ERR_SAML_MALFORMED', `the ${element.localName} ${name} is not a UTC instant (SAML core §1.3.3)`);
  return { ok: true, value: ms };
}
