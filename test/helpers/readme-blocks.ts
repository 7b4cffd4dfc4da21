import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../scripts/lib/stack-config.js';

/** The fenced code blocks of one README `## ` section, as an operator would copy them (a list item's indentation removed). */
export function readmeBlocks(heading: string): { lang: string; text: string }[] {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`## ${heading}\n`);
  if (start < 0) throw new Error(`README has no section "${heading}"`);
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  // A block inside a list item is indented as its fence is: that much is removed from each of its lines.
  return [...section.matchAll(/^( *)```(\w+)\n([\s\S]*?)^ *```/gm)].map(([, indent, lang, text]) => ({
    lang: lang ?? '',
    text: (text ?? '').replace(new RegExp(`^ {0,${(indent ?? '').length}}`, 'gm'), ''),
  }));
}
