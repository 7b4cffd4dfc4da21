import { describe, expect, it } from 'vitest';
import { createDecisionLog } from '../../../src/decision-log/create-decision-log.js';
import type { DecisionRecord } from '../../../src/decision-log/decision-record.js';

const record = { decisionId: 'd', outcome: 'allow' } as unknown as DecisionRecord;

describe('createDecisionLog', () => {
  it('becomes unhealthy when the sink fails to write (fail closed on audit)', async () => {
    let log: ReturnType<typeof createDecisionLog> | undefined;
    // /dev/full accepts the open and fails every write with ENOSPC.
    const failed = new Promise<string>((resolve) => {
      log = createDecisionLog('/dev/full', resolve);
    });
    expect(log?.healthy()).toBe(true);
    log?.write(record);
    expect(await failed).toBe('decision log write failed: ENOSPC');
    expect(log?.healthy()).toBe(false);
    expect(log?.failure).toBe('decision log write failed: ENOSPC');
  });
});
