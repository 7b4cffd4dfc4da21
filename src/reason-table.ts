import { REASON_CODES, REASONS } from './errors.js';

/** The README's reason-code table, generated from {@link REASONS}. */
export function reasonTable(): string {
  const rows = ['| code | HTTP status | meaning |', '| --- | --- | --- |'];
  for (const code of REASON_CODES) rows.push(`| \`${code}\` | ${REASONS[code].status} | ${REASONS[code].title} |`);
  return rows.join('\n');
}
