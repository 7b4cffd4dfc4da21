import { describe, expect, it } from 'vitest';
import { createAdmission } from '../../../src/admission.js';
import { createAuditGate } from '../../../src/audit-gate.js';
import type { DecisionLog } from '../../../src/decision-log/create-decision-log.js';
import type { DecisionRecord } from '../../../src/decision-log/decision-record.js';
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
    stats: () => ({
      durability: 'written',
      healthy: true,
      pendingBytes: 0,
      pendingLines: 0,
      linesWritten: records.length,
      linesLost: 0,
      failures: 0,
      rotations: 0,
    }),
    reopen() {},
    noteConfig() {},
    close: async () => {},
  };
}

const parts = (decide: unknown, log: DecisionLog, newDecisionId = () => 'd-1') => ({
  decide: decide as never,
  audit: createAuditGate(log, () => createRequestFacts([])),
  admission: createAdmission({ maxInFlight: 10, log }),
  headerPrefix: 'x-callguard-',
  newDecisionId,
});

describe('createCheckHandler: every outcome is an explicit decision', () => {
  it.each([
    {
      name: 'decide throws',
      decide: async () => {
        throw new Error('boom with SECRET');
      },
      bytes: envoyCheckBytes(),
      code: 'ERR_INTERNAL',
      status: 500,
    },
    { name: 'decide rejects with a non-error', decide: () => Promise.reject('nope'), bytes: envoyCheckBytes(), code: 'ERR_INTERNAL', status: 500 },
    {
      name: 'undecodable bytes',
      decide: async () => {
        throw new Error('unreachable');
      },
      bytes: new Uint8Array([0xff, 0xff]),
      code: 'ERR_REQUEST_MALFORMED',
      status: 400,
    },
    {
      name: 'empty CheckRequest',
      decide: async () => {
        throw new Error('unreachable');
      },
      bytes: new Uint8Array(),
      code: 'ERR_REQUEST_MALFORMED',
      status: 400,
    },
    {
      name: 'a raw header value that is not UTF-8 (encode_raw_headers)',
      decide: async () => {
        throw new Error('unreachable');
      },
      bytes: envoyCheckBytes({ encodeRawHeaders: true, headerLines: [['x-name', new Uint8Array([0x5a, 0x6f, 0xeb])]] }),
      code: 'ERR_HEADER_INVALID',
      status: 400,
    },
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

  it('a header value it refuses to read still leaves a line saying which call it was', async () => {
    const log = memoryLog();
    const handle = createCheckHandler(
      parts(async () => {
        throw new Error('unreachable');
      }, log),
    );
    const bytes = envoyCheckBytes({ encodeRawHeaders: true, method: 'GET', path: '/orders/7', headerLines: [['x-name', new Uint8Array([0xe9])]] });
    const s = summarize(decodeCheckResponse(await handle(bytes)));
    expect(s.allow ? 'allow' : [s.problem.code, s.status]).toEqual(['ERR_HEADER_INVALID', 400]);
    expect(log.records[0]).toMatchObject({
      code: 'ERR_HEADER_INVALID',
      internal: 'header "x-name" is not UTF-8',
      // Envoy's stream id: the x-request-id line was not read either.
      requestId: '1234',
      request: { method: 'GET', host: 'functions.internal' },
      tls: { tls: true },
      source: '10.0.0.7:51234',
    });
  });

  it.each([
    {
      name: 'gRPC client is not the pinned proxy',
      caller: { untrusted: 'client certificate carries none of server.tls.clientSans' },
      healthy: true,
      code: 'ERR_CALLER_UNTRUSTED',
      status: 403,
    },
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

  const allowed = {
    allow: true,
    status: 200,
    decisionId: 'd-9',
    functionName: 'orders.get',
    caller: {},
    setHeaders: {},
    removeHeaders: [],
    removeQueryParameters: [],
  } as never;
  const wouldDeny = {
    allow: false,
    status: 403,
    code: 'ERR_NOT_PERMITTED',
    detail: 'no',
    violations: [],
    decisionId: 'd-7',
    functionName: 'orders.get',
    shadow: { setHeaders: { 'x-callguard-decision-id': 'd-7' }, removeHeaders: ['x-callguard-subject'], removeQueryParameters: [] },
  } as never;

  it.each([
    {
      name: 'its line is lost (the write failed)',
      append: (_record: unknown, committed?: (ok: boolean) => void) => {
        committed?.(false);
        return true;
      },
    },
    { name: 'the log refuses the line (it failed after the call was admitted)', append: () => false },
    {
      name: 'the line cannot be appended at all',
      append: () => {
        throw new Error('EIO');
      },
    },
  ])('an allow whose $name is answered as ERR_DECISION_LOG_UNAVAILABLE (503), same decision id', async ({ append }) => {
    const log: DecisionLog = { ...memoryLog(), append };
    const handle = createCheckHandler(parts(() => allowed, log));
    const s = summarize(decodeCheckResponse(await handle(envoyCheckBytes())));
    expect(s.allow ? 'allow' : s.problem.code).toBe('ERR_DECISION_LOG_UNAVAILABLE');
    expect(s.allow ? undefined : [s.status, s.headers['x-callguard-decision-id']]).toEqual([503, 'd-9']);
  });

  it.each([
    { name: 'an allow', decision: () => allowed, lost: 'ERR_DECISION_LOG_UNAVAILABLE' },
    { name: 'a shadow-mode denial (let through)', decision: () => wouldDeny, lost: 'ERR_DECISION_LOG_UNAVAILABLE' },
    { name: 'an enforced denial', decision: () => ({ ...(wouldDeny as object), shadow: undefined }), lost: 'ERR_NOT_PERMITTED' },
  ])('$name whose line is lost → $lost: nothing reaches the function unrecorded', async ({ decision, lost }) => {
    const log: DecisionLog = { ...memoryLog(), append: () => false };
    const s = summarize(decodeCheckResponse(await createCheckHandler(parts(decision, log))(envoyCheckBytes())));
    expect(s.allow ? 'allow' : s.problem.code).toBe(lost);
  });

  it('a shadow-mode denial whose line is committed is an OK response with its own upstream changes', async () => {
    const s = summarize(decodeCheckResponse(await createCheckHandler(parts(() => wouldDeny, memoryLog()))(envoyCheckBytes())));
    expect(s.allow ? [s.grpc, s.headers, s.remove] : s.problem.code).toEqual([0, { 'x-callguard-decision-id': 'd-7' }, ['x-callguard-subject']]);
  });

  it('an allow is answered only once its line is committed', async () => {
    let commit: ((ok: boolean) => void) | undefined;
    const log: DecisionLog = {
      ...memoryLog(),
      append: (_r, committed) => {
        commit = committed;
        return true;
      },
    };
    const handle = createCheckHandler(parts(() => allowed, log));
    let answered = false;
    const answer = Promise.resolve(handle(envoyCheckBytes())).then((bytes) => {
      answered = true;
      return bytes;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBe(false);
    commit?.(true);
    expect(summarize(decodeCheckResponse(await answer)).allow).toBe(true);
  });

  it('a call beyond maxInFlight is refused at once (ERR_OVERLOADED, no decision id), not queued', async () => {
    const log = memoryLog();
    const pending: ((ok: boolean) => void)[] = [];
    const slow: DecisionLog = {
      ...log,
      append: (_r, committed) => {
        if (committed) pending.push(committed);
        return true;
      },
    };
    const handle = createCheckHandler({ ...parts(() => allowed, slow), admission: createAdmission({ maxInFlight: 1, log: slow }) });
    const first = handle(envoyCheckBytes());
    const second = summarize(decodeCheckResponse(await handle(envoyCheckBytes())));
    expect(second.allow ? 'allow' : [second.problem.code, second.status, second.headers['x-callguard-decision-id']]).toEqual([
      'ERR_OVERLOADED',
      503,
      undefined,
    ]);
    for (const commit of pending) commit(true);
    expect(summarize(decodeCheckResponse(await first)).allow).toBe(true);
  });

  it('still answers when the log sink throws', async () => {
    const log: DecisionLog = {
      ...memoryLog(),
      append: () => {
        throw new Error('disk full');
      },
    };
    const handle = createCheckHandler(
      parts(
        async () => {
          throw new Error('x');
        },
        log,
        () => 'd-2',
      ),
    );
    const s = summarize(decodeCheckResponse(await handle(envoyCheckBytes())));
    expect(s.allow).toBe(false);
  });
});
