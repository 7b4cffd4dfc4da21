import type { Decision } from '../decision.js';
import type { CaseExpectation, Outcome } from './load-cases.js';

/** What a case compares, read from a decision. */
export interface DecisionFacts {
  readonly outcome: Outcome;
  readonly status: number;
  readonly code?: string;
  readonly violations: readonly { readonly pointer?: string; readonly keyword?: string }[];
  /** Headers set on the call upstream (an allowed call, or a shadow function's call let through). */
  readonly upstreamHeaders: Readonly<Record<string, string>>;
  readonly removedHeaders: readonly string[];
}

/** One expectation that did not hold: what the case said and what callguard decided. */
export interface Mismatch {
  readonly field: string;
  readonly expected: string;
  readonly got: string;
}

/** The facts of a decision: a shadow function's denial is `would-deny`, with the denial's status and code. */
export function decisionFacts(decision: Decision): DecisionFacts {
  if (decision.allow) {
    return { outcome: 'allow', status: 200, violations: [], upstreamHeaders: decision.setHeaders, removedHeaders: decision.removeHeaders };
  }
  return {
    outcome: decision.shadow === undefined ? 'deny' : 'would-deny',
    status: decision.status,
    code: decision.code,
    violations: decision.violations,
    upstreamHeaders: decision.shadow?.setHeaders ?? {},
    removedHeaders: decision.shadow?.removeHeaders ?? [],
  };
}

/** Every expectation of the case that the decision does not meet (none: the case passes). */
export function compareDecision(expect: CaseExpectation, got: DecisionFacts): Mismatch[] {
  const mismatches: Mismatch[] = [];
  const differ = (field: string, expected: unknown, actual: unknown): void => {
    if (expected !== actual) mismatches.push({ field, expected: show(expected), got: show(actual) });
  };
  differ('outcome', expect.outcome, got.outcome);
  if (expect.status !== undefined) differ('status', expect.status, got.status);
  // A denial's code is always compared when one is expected; an unexpected code shows with the outcome.
  if (expect.code !== undefined || (expect.outcome !== got.outcome && got.code !== undefined)) differ('code', expect.code, got.code);
  if (expect.violations !== undefined && !sameViolations(expect.violations, got.violations)) {
    mismatches.push({ field: 'violations', expected: showViolations(expect.violations), got: showViolations(got.violations) });
  }
  for (const [name, value] of Object.entries(expect.upstreamHeaders ?? {})) {
    differ(`upstreamHeaders.${name}`, value, Object.hasOwn(got.upstreamHeaders, name.toLowerCase()) ? got.upstreamHeaders[name.toLowerCase()] : null);
  }
  for (const name of expect.removedHeaders ?? []) {
    if (!got.removedHeaders.includes(name.toLowerCase())) {
      mismatches.push({ field: 'removedHeaders', expected: `${name} removed`, got: `removed: ${got.removedHeaders.join(', ') || 'none'}` });
    }
  }
  return mismatches;
}

/** The same violations in any order; an expected one without a keyword matches its pointer with any keyword. */
function sameViolations(expected: NonNullable<CaseExpectation['violations']>, got: DecisionFacts['violations']): boolean {
  if (expected.length !== got.length) return false;
  const left = [...got];
  // Exact ones first, so a pointer-only expectation does not take a violation an exact one needs.
  const ordered = [...expected].sort((a, b) => Number(a.keyword === undefined) - Number(b.keyword === undefined));
  for (const want of ordered) {
    const i = left.findIndex((v) => v.pointer === want.pointer && (want.keyword === undefined || v.keyword === want.keyword));
    if (i === -1) return false;
    left.splice(i, 1);
  }
  return true;
}

function showViolations(violations: DecisionFacts['violations']): string {
  if (violations.length === 0) return 'none';
  return violations.map((v) => `${v.pointer ?? '(no pointer)'}${v.keyword !== undefined ? ` ${v.keyword}` : ''}`).join(', ');
}

function show(value: unknown): string {
  return value === undefined ? '(none)' : value === null ? '(not set)' : String(value);
}
