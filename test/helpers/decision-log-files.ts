import { createDecisionLog, type DecisionLogOptions } from '../../src/decision-log/create-decision-log.js';
import type { DecisionRecord } from '../../src/decision-log/decision-record.js';
import { openLogSink } from '../../src/decision-log/log-sink.js';

/** What varies between the decisions of a generated log; the rest is a plausible allow. */
export interface DecisionShape {
  readonly id: string;
  readonly function?: string;
  readonly subject?: string;
  readonly deny?: { readonly status: number; readonly code: string };
}

/** A decision record shaped like those `toDecisionRecord` builds. */
export function decisionRecord(shape: DecisionShape): DecisionRecord {
  return {
    decisionId: shape.id,
    config: 'test-policy',
    requestId: `req-${shape.id}`,
    function: shape.function ?? 'orders.create',
    outcome: shape.deny === undefined ? 'allow' : 'deny',
    status: shape.deny?.status ?? 200,
    code: shape.deny?.code ?? null,
    reasons: shape.deny === undefined ? [] : [shape.deny.code],
    principal: {
      kind: 'jwt',
      issuer: 'https://issuer.example.test',
      subject: shape.subject ?? 'alice',
      groups: ['orders-writers'],
      tokenHash: 'nP7MfJWwDHDLp_DqGyA9Hg',
    },
    request: { method: 'POST', route: '/orders' },
    tls: { tls: true },
    source: '127.0.0.1:50000',
    latencyUs: 716,
  };
}

/** A decision log written for real (createDecisionLog over a file sink) at `path`. */
export function openTestLog(path: string, overrides: Partial<DecisionLogOptions> = {}) {
  const log = createDecisionLog(openLogSink(path, { fsync: false }), {
    durability: 'written',
    maxPendingBytes: 1 << 22,
    maxWriteMs: 60_000,
    configDigest: 'digest-1',
    ...overrides,
  });
  return {
    log,
    /** Appends the decisions and resolves once every line is written. */
    async append(shapes: readonly DecisionShape[]): Promise<void> {
      const written = await Promise.all(
        shapes.map((shape) => new Promise<boolean>((resolve) => (log.append(decisionRecord(shape), resolve) ? undefined : resolve(false)))),
      );
      if (!written.every(Boolean)) throw new Error('a decision was not written');
    },
  };
}
