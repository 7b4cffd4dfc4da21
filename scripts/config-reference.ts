// Prints the configuration reference (Markdown) generated from src/config/schema.json.
// `npm run docs` rewrites the README section between the config-reference markers.
import { readFileSync, writeFileSync } from 'node:fs';
import { configReference } from '../src/config/config-reference.js';
import { lintRuleTable } from '../src/envoy-lint/rule-table.js';
import { reasonTable } from '../src/reason-table.js';

const README = new URL('../README.md', import.meta.url);
const write = process.argv.includes('--write');
let text = readFileSync(README, 'utf8');
for (const [name, body] of [
  ['config-reference', configReference()],
  ['reason-codes', reasonTable()],
  ['envoy-lint-rules', lintRuleTable()],
] as const) {
  const pattern = new RegExp(`<!-- ${name}:start -->[\\s\\S]*?<!-- ${name}:end -->`);
  if (!pattern.test(text)) throw new Error(`README.md has no ${name} markers`);
  text = text.replace(pattern, () => `<!-- ${name}:start -->\n${body}\n<!-- ${name}:end -->`);
}
if (write) writeFileSync(README, text);
else process.stdout.write(text);
