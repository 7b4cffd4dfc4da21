import { describe, expect, it } from 'vitest';
import type { DecisionLog } from '../../../src/decision-log/create-decision-log.js';
import type { DecisionRecord } from '../../../src/decision-log/decision-record.js';
import { createCheckHandler } from '../../../src/envoy/handle-check.js';
import { decodeCheckResponse, envoyCheckBytes, summarize } from '../../helpers/envoy-check.js';

function memoryLog(): DecisionLog & { records: DecisionRecord[] } {
  const records: DecisionRecord[] = [];
  return { records, write: (r) => void records.push(r), healthy: () => true, failure: undefined, flush: () => {} };
}

describe('createCheckHandler: every outcome is an explicit decision', () => {
  it.each([
    { name: 'decide throws', decide: async () => { throw new Error('boom with SECRET'); }, bytes: envoyCheckBytes(), code: 'ERR_INTERNAL', status: 500 },
    { name: 'decide rejects with a non-error', decide: () => Promise.reject('nope'), bytes: envoyCheckBytes(), code: 'ERR_INTERNAL', status: 500 },
    { name: 'undecodable bytes', decide: async () => { throw new Error('unreachable'); }, bytes: new Uint8Array([0xff, 0xff]), code: 'ERR_REQUEST_MALFORMED', status: 400 },
    { name: 'empty CheckRequest', decide: async () => { throw new Error('unreachable'); }, bytes: new Uint8Array(), code: 'ERR_REQUEST_MALFORMED', status: 400 },
  ])('$name → $code', async ({ decide, bytes, code, status }) => {
    const log = memoryLog();
    const handle = createCheckHandler({ decide: decide as never, log, headerPrefix: 'x-callguard-', newDecisionId: () => 'd-1' });
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
    const log = { ...memoryLog(), healthy: () => healthy };
    let decided = 0;
    const decide = async () => {
      decided++;
      return { allow: true } as never;
    };
    const handle = createCheckHandler({ decide, log, headerPrefix: 'x-callguard-', newDecisionId: () => 'd-3' });
    const s = summarize(decodeCheckResponse(await handle(envoyCheckBytes(), caller)));
    expect(s.allow ? undefined : s.problem.code).toBe(code);
    expect(s.allow ? 200 : s.status).toBe(status);
    expect(decided).toBe(0);
  });

  it('still answers when the log sink throws', async () => {
    const log: DecisionLog = { write: () => { throw new Error('disk full'); }, healthy: () => true, failure: undefined, flush: () => {} };
    const handle = createCheckHandler({ decide: async () => { throw new Error('x'); }, log, headerPrefix: 'x-callguard-', newDecisionId: () => 'd-2' });
    const s = summarize(decodeCheckResponse(await handle(envoyCheckBytes())));
    expect(s.allow).toBe(false);
  });
});
