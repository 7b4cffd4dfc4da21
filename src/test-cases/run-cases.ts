import type { Config } from '../config/types.js';
import { createDecide } from '../decide.js';
import { configParts } from '../decision-core.js';
import type { PayloadInspector } from '../payload/payload-inspector.js';
import { createMemoryReplayStore } from '../replay/memory-replay-store.js';
import { caseAttempt } from './case-attempt.js';
import { caseIdentity } from './case-identity.js';
import { compareDecision, type DecisionFacts, decisionFacts, type Mismatch } from './compare-decision.js';
import type { CasesFile } from './load-cases.js';

export interface CaseResult {
  readonly name: string;
  readonly got: DecisionFacts;
  /** Empty when the case passed. */
  readonly mismatches: readonly Mismatch[];
}

/**
 * Decides every case of `file` with the server's decide (createDecide over the config's own registry,
 * schemas and rules; see configParts), each on its own: a fresh single-use store, the frozen clock,
 * and the case's caller in place of a verified credential (see caseIdentity). Offline: nothing is
 * fetched, no key is read.
 */
export async function runCases(config: Config, inputs: ReadonlyMap<string, PayloadInspector>, file: CasesFile): Promise<CaseResult[]> {
  const parts = configParts(config, inputs);
  const now = (): number => file.nowMs;
  const results: CaseResult[] = [];
  for (const [i, c] of file.cases.entries()) {
    const identity = caseIdentity(c.caller, config, file.nowMs);
    const replay = createMemoryReplayStore({ maxEntries: 16, now });
    try {
      const decide = createDecide({
        ...parts,
        ...(identity.peers !== undefined ? { peers: identity.peers } : {}),
        authenticators: identity.authenticators,
        replay,
        newDecisionId: () => `case-${i}`,
        now,
      });
      const got = decisionFacts(await decide(caseAttempt(c, identity, `case-${i}`)));
      results.push({ name: c.name, got, mismatches: compareDecision(c.expect, got) });
    } finally {
      replay.close();
    }
  }
  return results;
}
