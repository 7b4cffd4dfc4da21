import { describe, expect, it } from 'vitest';
import type { DecisionLog } from '../../../src/decision-log/create-decision-log.js';
import type { DecisionRecord } from '../../../src/decision-log/decision-record.js';
import { createAdmission } from '../../../src/admission.js';
import { createAuditGate } from '../../../src/audit-gate.js';
import { createRequestFacts } from '../../../src/decision-log/request-facts.js';
import { createCheckHandler } from '../../../src/envoy/handle-check.js';
import { decodeCheckResponse, envoyCheckBytes, summarize } from '../../helpers/envoy-check.js';

/** A decision log in memory: `written` semantics, every line committed at once unless `accept` says otherwise. */
function memoryLog(accept: () => boolean = () => true): DecisionLog & { records: DecisionRecord[] } {
  const records: DecisionRecord[] = [];
  return {
    records,
    waits: true,
    accepting: accept,
    append(r, committed) {
      if (!accept()) return false;
      records.push(r);
      committed?.(true);
      return true;
    },
    noteRefused() {},
    healthy: accept,
    failure: undefined,
    stats: () => ({ durability: 'written', healthy: true, pendingBytes: 0, linesWritten: records.length, linesLost: 0, failures: 0 }),
    reopen() {},
    close() {},
  };
}

const parts = (decide: unknown, log: DecisionLog, newDecisionId = () => 'd-1') => ({
  decide: decide as never,
  audit: createAuditGate(log, createRequestFacts([])),
  admission: createAdmission({ maxInFlight: 10, log }),
  headerPrefix: 'x-callguard-',
  newDecisionId,
});

describe('createCheckHandler: every outcome is an explicit decision', () => {
  it.each([
    { name: 'decide throws', decide: async () => { throw new Error('boom with SECRET'); }, bytes: envoyCheckBytes(), code: 'ERR_INTERNAL', status: 500 },
    { name: 'decide rejects with a non-error', decide: () => Promise.reject('nope'), bytes: envoyCheckBytes(), code: 'ERR_INTERNAL', status: 500 },
    { name: 'undecodable bytes', decide: async () => { throw new Error('unreachable'); }, bytes: new Uint8Array([0xff, 0xff]), code: 'ERR_REQUEST_MALFORMED', status: 400 },
    { name: 'empty CheckRequest', decide: async () => { throw new Error('unreachable'); }, bytes: new Uint8Array(), code: 'ERR_REQUEST_MALFORMED', status: 400 },
  ])('$name → $code', async ({ decide, bytes, code, status }) => {
    const log = memoryLog();
    const handle = createCheckHandler(parts(decide, log));
    const s = summarize(decodeCheckResponse(await handle(bytes)));
    expect(s.allow).toBe(false);
    if (s.allow) return;
    expect(s.problem.code).toBe(code);
    expect(s.status).toBe(status);
    expect(JSON.stringify(s)).not.toContain('SECRET');
    expect(log.records).toHaveLength(1);
    expect(log.records[0]).toMatchObject({ outcome: 'deny', code, decisionId: 'd-1' });
  });

  it.each([
    { name: 'gRPC client is not the pinned proxy', caller: { untrusted: 'client certificate carries none of server.tls.clientSans' }, healthy: true, code: 'ERR_CALLER_UNTRUSTED', status: 403 },
    { name: 'decision log sink failed', caller: {}, healthy: false, code: 'ERR_DECISION_LOG_UNAVAILABLE', status: 503 },
  ])('denies without deciding when $name', async ({ caller, healthy, code, status }) => {
    const log = memoryLog(() => healthy);
    let decided = 0;
    const decide = async () => {
      decided++;
      return { allow: true } as never;
    };
    const handle = createCheckHandler(parts(decide, log, () => 'd-3'));
    const s = summarize(decodeCheckResponse(await handle(envoyCheckBytes(), caller)));
    expect(s.allow ? undefined : s.problem.code).toBe(code);
    expect(s.allow ? 200 : s.status).toBe(status);
    expect(decided).toBe(0);
  });

  it('still answers when the log sink throws', async () => {
    const log: DecisionLog = { ...memoryLog(), append: () => { throw new Error('disk full'); } };
    const handle = createCheckHandler(parts(async () => { throw new Error('x'); }, log, () => 'd-2'));
    const s = summarize(decodeCheckResponse(await handle(envoyCheckBytes())));
    expect(s.allow).toBe(false);
  });
});
