import type { LogSink } from './log-sink.js';
import { connectRelp, type RelpConnectOptions, type RelpSession } from './relp-session.js';
import { createSyslogFormatter } from './syslog-message.js';

export interface RelpSinkOptions extends RelpConnectOptions {
  /** For messages: the configured destination, `relp+tls://HOST:PORT`. */
  readonly name: string;
  /** HOSTNAME of each syslog message; defaults to this machine's. */
  readonly hostname?: string;
  readonly now?: () => number;
  /** A write not fully acknowledged within this ends the session and fails (the next write reconnects). */
  readonly ackTimeoutMs?: number;
}

/**
 * A decision-log sink that ships each line to a RELP receiver (rsyslog's imrelp) as one `syslog`
 * command, in order, many in flight (the session's window). `write` reports success only once the
 * receiver answered `rsp 200` for every line of it: that acknowledgement is this sink's `written`
 * (the receiver accepted the line into its queue), so `sync` has nothing to add.
 *
 * Resolves once a session is open, so an unreachable or untrusted receiver stops start-up; rejects
 * with the reason. Later, a session that fails (the receiver stopped, restarted, refused a line) fails
 * the write in flight; the next write (the decision log's retry) opens a new session. Lines are never
 * resent by the sink: lines of a failed write may or may not have reached the receiver, and the
 * decision log counts them in its gap record. A RELP message is whole or absent, so `torn` is always false.
 *
 * `writeSync` cannot wait for a network answer and throws: lines still waiting at process exit are
 * lost for this destination (in `buffered` mode), and in waiting modes their calls are denied.
 */
const DEFAULT_ACK_TIMEOUT_MS = 10_000;

export async function openRelpSink(options: RelpSinkOptions): Promise<LogSink> {
  const toMessage = createSyslogFormatter({
    ...(options.hostname !== undefined ? { hostname: options.hostname } : {}),
    ...(options.now !== undefined ? { now: options.now } : {}),
  });
  const ackTimeoutMs = options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
  let session: RelpSession | undefined = await connectRelp(options);
  let reopenWanted = false;
  let closed = false;

  const currentSession = async (): Promise<RelpSession> => {
    if (reopenWanted) {
      reopenWanted = false;
      session?.close();
      session = undefined;
    }
    if (session?.alive) return session;
    // Failed, or due for renewal: ended before a new one opens (closing a failed session does nothing).
    session?.close();
    session = undefined;
    const opened = await connectRelp(options);
    if (closed) {
      opened.close();
      throw new Error('the decision log is closed');
    }
    session = opened;
    return opened;
  };

  return {
    name: options.name,
    write(data, done) {
      const lines = splitLines(data);
      if (closed) {
        done(new Error('the decision log is closed'), false);
        return;
      }
      currentSession().then(
        (open) => {
          let unanswered = lines.length;
          let failed = false;
          if (unanswered === 0) {
            done(undefined, false);
            return;
          }
          // A receiver that keeps the connection but never answers would hold the log stalled for good:
          // past the deadline the session is dropped, the write fails, and the log's retry reconnects.
          const deadline = setTimeout(() => {
            if (failed || unanswered === 0) return;
            failed = true;
            open.close();
            done(Object.assign(new Error(`no acknowledgement within ${ackTimeoutMs} ms`), { code: 'ETIMEDOUT' }), false);
          }, ackTimeoutMs);
          deadline.unref();
          for (const line of lines) {
            open.syslog(toMessage(line), (err) => {
              if (failed) return;
              if (err !== undefined) {
                failed = true;
                clearTimeout(deadline);
                done(err, false);
              } else if (--unanswered === 0) {
                clearTimeout(deadline);
                done(undefined, false);
              }
            });
          }
        },
        (err: NodeJS.ErrnoException) => done(err, false),
      );
    },
    // The receiver's acknowledgement is the durability this destination offers (`fsync` is refused by the config check).
    sync: (done) => done(undefined),
    writeSync() {
      throw new Error(`${options.name} cannot be written synchronously (a RELP receiver answers asynchronously)`);
    },
    reopen() {
      reopenWanted = true;
    },
    close() {
      closed = true;
      session?.close();
      session = undefined;
    },
  };
}

/** The LF-terminated lines of `data`, without their LF (a last line without one is taken whole). */
function splitLines(data: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  while (start < data.length) {
    const lf = data.indexOf(0x0a, start);
    const end = lf === -1 ? data.length : lf;
    lines.push(data.subarray(start, end));
    start = end + 1;
  }
  return lines;
}
