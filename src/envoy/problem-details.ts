import type { Deny } from '../decision.js';
import { REASONS } from '../errors.js';

/** RFC 9457 problem details for a denial. Public fields only: never request data or internal detail. */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
  readonly decisionId: string;
  readonly violations?: readonly { pointer: string; keyword: string; detail: string }[];
}

export function problemDetails(decision: Deny): ProblemDetails {
  const violations = decision.violations
    .filter((v) => v.pointer !== undefined)
    .map((v) => ({ pointer: v.pointer ?? '', keyword: v.keyword ?? '', detail: v.detail }));
  return {
    type: `urn:callguard:reason:${decision.code}`,
    title: REASONS[decision.code].title,
    status: decision.status,
    detail: decision.detail,
    code: decision.code,
    decisionId: decision.decisionId,
    ...(violations.length > 0 ? { violations } : {}),
  };
}
