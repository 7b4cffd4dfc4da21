import { describe, expect, it } from 'vitest';
import type { DecisionLog } from '../../../src/decision-log/create-decision-log.js';
import type { DecisionRecord } from '../../../src/decision-log/decision-record.js';
import { createCheckHandler } from '../../../src/envoy/handle-check.js';
import { decodeCheckResponse, envoyCheckBytes, summarize } from '../../helpers/envoy-check.js';

function memoryLog(): DecisionLog & { records: DecisionRecord[] } {
  const records: DecisionRecord[] = [];
  return { records, write: (r) => void records.push(r), flush: () => {} };
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

  it('still answers when the log sink throws', async () => {
    const log: DecisionLog = { write: () => { throw new Error('disk full'); }, flush: () => {} };
    const handle = createCheckHandler({ decide: async () => { throw new Error('x'); }, log, headerPrefix: 'x-callguard-', newDecisionId: () => 'd-2' });
    const s = summarize(decodeCheckResponse(await handle(envoyCheckBytes())));
    expect(s.allow).toBe(false);
  });
});
