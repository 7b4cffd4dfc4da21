import { relative } from 'node:path';
import type { ConfigProblem } from '../errors.js';
import type { CaseResult } from './run-cases.js';

/** Each case of a file, ok or FAIL with expected vs got per mismatch. */
export function formatResults(file: string, results: readonly CaseResult[]): string {
  const lines = [displayPath(file)];
  for (const r of results) {
    lines.push(`  ${r.mismatches.length === 0 ? 'ok  ' : 'FAIL'}  ${r.name}`);
    for (const m of r.mismatches) lines.push(`          ${m.field}: expected ${m.expected}, got ${m.got}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The last line: how many passed and failed, over every file. */
export function formatSummary(results: readonly CaseResult[]): string {
  const failed = results.filter((r) => r.mismatches.length > 0).length;
  return `${results.length - failed} passed, ${failed} failed\n`;
}

/** Every problem of a cases file (or the config), one a line, with file and key path. */
export function formatProblems(what: string, problems: readonly ConfigProblem[]): string {
  const heading = `${what} (${problems.length} problem${problems.length === 1 ? '' : 's'}):`;
  return `${[heading, ...problems.map((p) => `  ${displayPath(p.file)}: ${p.path || '/'}: ${p.message}`)].join('\n')}\n`;
}

function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') || rel === '' ? file : rel;
}
