import type { CheckpointSigner } from './checkpoint-signer.js';
import type { DecisionRecord } from './decision-record.js';

/**
 * - `written`: a call is answered only once its line was accepted by the OS (write(2) returned).
 * - `fsync`: as `written`, once the batch holding it was also fsync'ed.
 * - `buffered`: answered at once; lines wait in memory (at most `maxPendingBytes`) and are lost if
 *   the process dies or the sink fails before they are written.
 */
export type Durability = 'written' | 'fsync' | 'buffered';

export interface DecisionLogOptions {
  readonly durability: Durability;
  /** Bytes of lines waiting for the sink; past this, new calls are refused (not queued, not dropped). */
  readonly maxPendingBytes: number;
  /** A write in flight longer than this marks the sink stalled: new calls are refused until it completes. */
  readonly maxWriteMs: number;
  /** Health changes, for the operational log: the sink failed, stalled or recovered. */
  readonly onStateChange?: (event: { readonly healthy: boolean; readonly msg: string }) => void;
  readonly now?: () => number;
  /** First retry of a failed sink; doubles up to 2 s. */
  readonly retryMs?: number;
  /** Named in each `decision-log-start` line: which configuration made the decisions that follow. */
  readonly configDigest?: string;
  /** Rotate a regular file past this many bytes and/or this age (the chain continues in the next file). */
  readonly rotate?: { readonly maxBytes?: number; readonly everySeconds?: number };
  /** Signed checkpoints every `everyLines` lines or `everySeconds`, whichever comes first. */
  readonly checkpoint?: { readonly signer: CheckpointSigner; readonly everyLines: number; readonly everySeconds: number };
}

/** Called once per appended line in `written` / `fsync` mode: true once the line is durable, false if it was lost. */
export type Committed = (ok: boolean) => void;

export interface DecisionLogStats {
  readonly durability: Durability;
  readonly healthy: boolean;
  readonly pendingBytes: number;
  /** Lines queued or in the write under way: the queue's depth. */
  readonly pendingLines: number;
  readonly linesWritten: number;
  /** Lines handed to a write that failed (they may be partly on disk); each is counted in a gap record. */
  readonly linesLost: number;
  readonly failures: number;
  readonly rotations: number;
}

export interface DecisionLog {
  /** Whether a decision made now can be recorded: the sink works, is not stalled, and has room. */
  accepting(): boolean;
  /** True in `written` and `fsync` modes: `append` reports, through `committed`, when the line is durable. */
  readonly waits: boolean;
  /**
   * Appends the record's line. Returns false, calling nothing, when the log is not accepting.
   * In waiting modes `committed` is called exactly once later; in `buffered` it is never called.
   */
  append(record: DecisionRecord, committed?: Committed): boolean;
  /** Counts a call refused before any decision (overload, log unavailable): summarized in the log, never one line each. */
  noteRefused(code: string): void;
  /** False while the sink has failed or stalled; true again once it works. */
  healthy(): boolean;
  /** Why the sink is unhealthy, for the operational log. */
  readonly failure: string | undefined;
  stats(): DecisionLogStats;
  /** Reopen the destination before the next write (SIGHUP, after logrotate moved the file); the new file starts with a start line. */
  reopen(): void;
  /**
   * A reload put another config in charge: a `decision-log-config` line names its digest (the `config`
   * of the decision lines after it) and why (`reload`; `mcp-tools-listed`: a retry listed MCP tool
   * schemas missing at start), and later start lines (rotation, reopen) name it too.
   */
  noteConfig(configDigest: string, reason?: 'reload' | 'mcp-tools-listed'): void;
  /**
   * Writes every pending line (a last summary and checkpoint included), waiting up to 2 s, and
   * closes the sink (shutdown; on process exit what can be written synchronously is, at once).
   */
  close(): Promise<void>;
}
