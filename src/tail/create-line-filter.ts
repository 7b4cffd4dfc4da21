import type { LogLine } from './parse-log-line.js';

/** What `callguard tail` shows; every given criterion must hold (AND), values of one criterion are alternatives (OR). */
export interface LineCriteria {
  /** Function names, exact or a prefix ending in `*` (`orders.*`). */
  readonly functions?: readonly string[];
  readonly outcome?: 'allow' | 'deny' | 'would-deny';
  readonly codes?: readonly string[];
  /** `principal.subject` or `principal.spiffeId`. */
  readonly subjects?: readonly string[];
  /** Epoch ms, inclusive. */
  readonly since?: number;
  /** Epoch ms, inclusive. */
  readonly until?: number;
}

/**
 * Lines that say calls went unrecorded (`decision-log-gap`) or were refused without a decision
 * (`refused`): shown whenever they fall in the time window, whatever else is asked, since a search
 * for "who called what" is incomplete without them.
 */
const ALWAYS = new Set(['decision-log-gap', 'refused']);

/**
 * Builds the predicate. Decisions must match every criterion; lines of the log itself (start,
 * checkpoint, anything else) only the time window, and only while no decision criterion is given.
 */
export function createLineFilter(criteria: LineCriteria): (line: LogLine) => boolean {
  const { functions, outcome, codes, subjects, since, until } = criteria;
  const matchFunction = functions === undefined || functions.length === 0 ? undefined : createNameMatcher(functions);
  const codeSet = codes === undefined || codes.length === 0 ? undefined : new Set(codes);
  const subjectSet = subjects === undefined || subjects.length === 0 ? undefined : new Set(subjects);
  const aboutDecisions = matchFunction !== undefined || outcome !== undefined || codeSet !== undefined || subjectSet !== undefined;
  return (line) => {
    if (since !== undefined && line.ms < since) return false;
    if (until !== undefined && line.ms > until) return false;
    if (line.msg !== 'decision') return ALWAYS.has(line.msg) || !aboutDecisions;
    const { fields } = line;
    if (matchFunction !== undefined && !(typeof fields['function'] === 'string' && matchFunction(fields['function']))) return false;
    if (outcome !== undefined && fields['outcome'] !== outcome) return false;
    if (codeSet !== undefined && !(typeof fields['code'] === 'string' && codeSet.has(fields['code']))) return false;
    if (subjectSet !== undefined && !subjectsOf(fields['principal']).some((s) => subjectSet.has(s))) return false;
    return true;
  };
}

function createNameMatcher(patterns: readonly string[]): (name: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.endsWith('*')));
  const prefixes = patterns.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
  return (name) => exact.has(name) || prefixes.some((p) => name.startsWith(p));
}

function subjectsOf(principal: unknown): string[] {
  if (typeof principal !== 'object' || principal === null) return [];
  const { subject, spiffeId } = principal as { subject?: unknown; spiffeId?: unknown };
  return [subject, spiffeId].filter((s): s is string => typeof s === 'string');
}
