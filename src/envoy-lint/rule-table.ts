import { RULES, type RuleId } from './rule-catalog.js';

/** The README's table of `callguard lint-envoy` rules, generated from {@link RULES}. */
export function lintRuleTable(): string {
  const rows = ['| rule | severity | finds | fix |', '| --- | --- | --- | --- |'];
  for (const id of Object.keys(RULES) as RuleId[]) {
    const rule = RULES[id];
    const needs = 'needsCallguard' in rule ? ' (with `--callguard`)' : '';
    rows.push(`| \`${id}\` | ${rule.severity} | ${rule.summary}${needs} | ${rule.fix} |`);
  }
  return rows.join('\n');
}
