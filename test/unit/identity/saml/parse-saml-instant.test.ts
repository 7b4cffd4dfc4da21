import { describe, expect, it } from 'vitest';
import { parseSamlInstant } from '../../../../src/identity/saml/parse-saml-instant.js';

describe('parseSamlInstant (SAML core §1.3.3)', () => {
  it.each([
    { name: 'whole seconds', text: '2030-01-15T12:00:00Z', ms: Date.UTC(2030, 0, 15, 12) },
    { name: 'milliseconds', text: '2030-01-15T12:00:00.123Z', ms: Date.UTC(2030, 0, 15, 12, 0, 0, 123) },
    { name: 'one fraction digit', text: '2030-01-15T12:00:00.5Z', ms: Date.UTC(2030, 0, 15, 12, 0, 0, 500) },
    { name: 'nanoseconds (truncated)', text: '2030-01-15T12:00:00.123456789Z', ms: Date.UTC(2030, 0, 15, 12, 0, 0, 123) },
    { name: 'a leap day', text: '2028-02-29T00:00:00Z', ms: Date.UTC(2028, 1, 29) },
  ])('reads $name', ({ text, ms }) => {
    expect(parseSamlInstant(text)).toBe(ms);
  });

  it.each([
    { name: 'no zone', text: '2030-01-15T12:00:00' },
    { name: 'an offset', text: '2030-01-15T12:00:00+00:00' },
    { name: 'a lower-case z', text: '2030-01-15T12:00:00z' },
    { name: 'a space separator', text: '2030-01-15 12:00:00Z' },
    { name: 'no seconds', text: '2030-01-15T12:00Z' },
    { name: '24:00:00', text: '2030-01-15T24:00:00Z' },
    { name: 'a leap second', text: '2030-01-15T23:59:60Z' },
    { name: 'February 30th', text: '2030-02-30T00:00:00Z' },
    { name: 'month 13', text: '2030-13-01T00:00:00Z' },
    { name: 'a year before 1970', text: '1969-12-31T23:59:59Z' },
    { name: 'a five-digit year', text: '12030-01-15T12:00:00Z' },
    { name: 'surrounding whitespace', text: ' 2030-01-15T12:00:00Z' },
    { name: 'an empty fraction', text: '2030-01-15T12:00:00.Z' },
  ])('refuses $name', ({ text }) => {
    expect(parseSamlInstant(text)).toBeUndefined();
  });
});
