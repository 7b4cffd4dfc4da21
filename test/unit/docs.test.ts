import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configReference } from '../../src/config/config-reference.js';
import { lintRuleTable } from '../../src/envoy-lint/rule-table.js';
import { REASON_CODES, REASONS } from '../../src/errors.js';
import { reasonTable } from '../../src/reason-table.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README stays generated from the code', () => {
  it.each([
    { name: 'reason codes', marker: 'reason-codes', body: reasonTable() },
    { name: 'configuration reference', marker: 'config-reference', body: configReference() },
    { name: 'lint-envoy rules', marker: 'envoy-lint-rules', body: lintRuleTable() },
  ])('$name section is current (run `npm run docs`)', ({ marker, body }) => {
    expect(readme).toContain(`<!-- ${marker}:start -->\n${body}\n<!-- ${marker}:end -->`);
  });

  it.each(REASON_CODES.map((code) => ({ code })))('$code has a status and a README row', ({ code }) => {
    expect(REASONS[code].status).toBeGreaterThanOrEqual(400);
    expect(readme).toContain(`| \`${code}\` | ${REASONS[code].status} |`);
  });
});
