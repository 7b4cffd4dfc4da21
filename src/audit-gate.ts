import type { CallAttempt } from './call-attempt.js';
import type { Decision, Deny } from './decision.js';
import type { DecisionLog } from './decision-log/create-decision-log.js';
import { type DescribeRequest, toDecisionRecord } from './decision-log/decision-record.js';
import { REASONS } from './errors.js';

/**
 * The audit gate, a rule of the decision rather than of any adapter: no allow without its record.
 * `record` appends the decision's line and gives back the decision to answer with:
 * - `buffered`: at once; an allow the log cannot take becomes a denial;
 * - `written` / `fsync`: once the line is durable; an allow whose line was lost becomes a denial
 *   (a denial stays the denial it was, its loss counted in the log's next gap record).
 * Never throws or rejects.
 */
export interface AuditGate {
  record(attempt: CallAttempt | undefined, decision: Decision, latencyUs: number): Decision | Promise<Decision>;
}

/**
 * `describeFor` gives the request describer of the config that made a decision (`decision.policy`, the
 * digest; undefined for a call refused before any config decided it): after a reload, a call still
 * finishing on the old config is described by the old config's routes, like its `config` field says.
 */
export function createAuditGate(log: DecisionLog, describeFor: (policy: string | undefined) => DescribeRequest): AuditGate {
  return {
    record(attempt, decision, latencyUs) {
      const describeRequest = describeFor(decision.policy);
      let appended: boolean;
      if (!log.waits) {
        try {
          appended = log.append(toDecisionRecord(attempt, decision, latencyUs, describeRequest));
        } catch {
          appended = false;
        }
        if (!appended) log.noteRefused('ERR_DECISION_LOG_UNAVAILABLE');
        return appended ? decision : unrecorded(decision);
      }
      return new Promise<Decision>((resolve) => {
        try {
          appended = log.append(toDecisionRecord(attempt, decision, latencyUs, describeRequest), (ok) => resolve(ok ? decision : unrecorded(decision)));
        } catch {
          appended = false;
        }
        if (!appended) {
          // Admitted, then the log stopped accepting (an async key fetch in between): counted, so every call is accounted for.
          log.noteRefused('ERR_DECISION_LOG_UNAVAILABLE');
          resolve(unrecorded(decision));
        }
      });
    },
  };
}

/** What a decision becomes when its line could not be recorded. */
function unrecorded(decision: Decision): Decision {
  // A denial stands unrecorded; anything that would reach the function (a shadow-mode denial too) does not.
  if (!decision.allow && decision.shadow === undefined) return decision;
  const code = 'ERR_DECISION_LOG_UNAVAILABLE';
  const deny: Deny = {
    allow: false,
    decisionId: decision.decisionId,
    ...(decision.functionName === undefined ? {} : { functionName: decision.functionName }),
    ...(decision.caller === undefined ? {} : { caller: decision.caller }),
    code,
    status: REASONS[code].status,
    detail: REASONS[code].title,
    violations: [],
    internal: decision.allow ? 'the allow could not be recorded' : 'the shadow-mode call (would-deny) could not be recorded',
  };
  return deny;
}
