import { describe, expect, it } from 'vitest';
import { createAdmission } from '../../../src/admission.js';
import { createAuditGate } from '../../../src/audit-gate.js';
import type { Decision } from '../../../src/decision.js';
import type { DecisionLog } from '../../../src/decision-log/create-decision-log.js';
import { createRequestFacts } from '../../../src/decision-log/request-facts.js';
import type { DecisionMeter } from '../../../src/decision-meter.js';
import { createCheckHandler } from '../../../src/envoy/handle-check.js';
import { envoyCheckBytes } from '../../helpers/envoy-check.js';

/** A decision log in memory; `waits` picks the audit gate's synchronous (buffered) or promise (written) path. */
function memoryLog(options: { waits: boolean; accepting?: boolean }): DecisionLog {
  const accepting = options.accepting ?? true;
  return {
    waits: options.waits,
    accepting: () => accepting,
    append(_record, committed) {
      if (!accepting) return false;
      committed?.(true);
      return true;
    },
    noteRefused() {},
    healthy: () => accepting,
    failure: undefined,
    stats: () => ({ durability: 'written', healthy: true, pendingBytes: 0, pendingLines: 0, linesWritten: 0, linesLost: 0, failures: 0, rotations: 0 }),
    reopen() {},
    noteConfig() {},
    close: async () => {},
  };
}

/** Records what the handler reports, in order. */
function recordingMeter(): DecisionMeter & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    decided(decision, latencyUs) {
      expect(latencyUs).toBeGreaterThanOrEqual(0);
      seen.push(decision.allow ? `decided allow ${decision.functionName}` : `decided ${decision.code}`);
    },
    refused(code) {
      seen.push(`refused ${code}`);
    },
  };
}

const allow = {
  allow: true,
  status: 200,
  decisionId: 'd',
  functionName: 'orders.get',
  caller: {},
  setHeaders: {},
  removeHeaders: [],
  removeQueryParameters: [],
} as unknown as Decision;

describe('createCheckHandler: the meter sees every answer once, as answered', () => {
  it.each([
    { name: 'a synchronous allow (buffered log)', waits: false, decide: () => allow, seen: ['decided allow orders.get'] },
    { name: 'an allow once its line is written', waits: true, decide: () => allow, seen: ['decided allow orders.get'] },
    { name: 'an allow decided asynchronously', waits: false, decide: async () => allow, seen: ['decided allow orders.get'] },
    { name: 'decide rejects: the internal denial', waits: true, decide: () => Promise.reject(new Error('boom')), seen: ['decided ERR_INTERNAL'] },
    { name: 'undecodable bytes', waits: false, decide: () => allow, bytes: new Uint8Array([0xff, 0xff]), seen: ['decided ERR_REQUEST_MALFORMED'] },
    {
      name: 'refused by admission (log unavailable): nothing decided',
      waits: true,
      accepting: false,
      decide: () => allow,
      seen: ['refused ERR_DECISION_LOG_UNAVAILABLE'],
    },
  ])('$name', async ({ waits, accepting, decide, bytes, seen }) => {
    const log = memoryLog({ waits, ...(accepting !== undefined ? { accepting } : {}) });
    const meter = recordingMeter();
    const handle = createCheckHandler({
      decide: decide as never,
      audit: createAuditGate(log, () => createRequestFacts([])),
      admission: createAdmission({ maxInFlight: 10, log }),
      headerPrefix: 'x-callguard-',
      newDecisionId: () => 'd',
      meter,
    });
    await handle(bytes ?? envoyCheckBytes());
    expect(meter.seen).toEqual(seen);
  });

  it('an allow whose line cannot be taken is counted as the denial it became', async () => {
    const log: DecisionLog = { ...memoryLog({ waits: false }), append: () => false };
    const meter = recordingMeter();
    const handle = createCheckHandler({
      decide: (() => allow) as never,
      audit: createAuditGate(log, () => createRequestFacts([])),
      admission: createAdmission({ maxInFlight: 10, log }),
      headerPrefix: 'x-callguard-',
      newDecisionId: () => 'd',
      meter,
    });
    await handle(envoyCheckBytes());
    expect(meter.seen).toEqual(['decided ERR_DECISION_LOG_UNAVAILABLE']);
  });
});
