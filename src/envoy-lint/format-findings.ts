import { type Finding, RULES, type RuleId } from './rule-catalog.js';

export type FindingsFormat = 'text' | 'json' | 'sarif';

/** The line a finding's path points into, when the text has it. */
export type LineOf = (path: Finding['path']) => number | undefined;

/** `file:line: severity rule-id at path: message` lines, each followed by its fix, and a summary line. */
export function formatText(file: string, findings: readonly Finding[], lineOf: LineOf): string {
  const lines = findings.map((f) => `${file}:${lineOf(f.path) ?? 1}: ${f.severity} ${f.rule} at ${f.path}: ${f.message}\n  fix: ${f.fix}`);
  const count = (severity: Finding['severity']) => {
    const n = findings.filter((f) => f.severity === severity).length;
    return `${n} ${severity}${n === 1 ? '' : 's'}`;
  };
  lines.push(`${file}: ${count('error')}, ${count('warning')}, ${count('note')}`);
  return `${lines.join('\n')}\n`;
}

export function formatJson(file: string, findings: readonly Finding[], lineOf: LineOf): string {
  return `${JSON.stringify({ file, findings: findings.map((f) => ({ ...f, line: lineOf(f.path) ?? 1 })) }, null, 2)}\n`;
}

const SARIF_LEVEL = { error: 'error', warning: 'warning', note: 'note' } as const;

/**
 * A SARIF 2.1.0 log (OASIS, sarif-v2.1.0 §3.13 sarifLog): one run, every rule in `tool.driver.rules`,
 * one result per finding, located in the file and, logically, by its JSONPath.
 */
export function formatSarif(file: string, findings: readonly Finding[], lineOf: LineOf): string {
  const ids = Object.keys(RULES) as RuleId[];
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'callguard lint-envoy',
            rules: ids.map((id) => ({
              id,
              shortDescription: { text: RULES[id].summary },
              help: { text: RULES[id].fix },
              defaultConfiguration: { level: SARIF_LEVEL[RULES[id].severity] },
            })),
          },
        },
        results: findings.map((f) => ({
          ruleId: f.rule,
          ruleIndex: ids.indexOf(f.rule),
          level: SARIF_LEVEL[f.severity],
          message: { text: `${f.message}. Fix: ${f.fix}` },
          locations: [
            {
              physicalLocation: { artifactLocation: { uri: file }, region: { startLine: lineOf(f.path) ?? 1 } },
              logicalLocations: [{ fullyQualifiedName: f.path, kind: 'object' }],
            },
          ],
        })),
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
