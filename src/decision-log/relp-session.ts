import { isIP } from 'node:net';
import { checkServerIdentity, connect, type TLSSocket } from 'node:tls';
import { createFrameReader, encodeFrame, MAX_TXNR, nextTxnr, parseResponse, type RelpFrame, TXNR_RENEW_AT } from './relp-frame.js';

export interface RelpConnectOptions {
  readonly host: string;
  readonly port: number;
  /** PEM of the CA(s) the receiver's certificate must chain to (the system store is not used). */
  readonly ca: Buffer;
  /** Client certificate and key (PEM), for receivers that require mutual TLS. */
  readonly cert?: Buffer;
  readonly key?: Buffer;
  /** The name the receiver's certificate must carry; defaults to `host` (a DNS name or an IP address). */
  readonly serverName?: string;
  /** TCP connect, TLS handshake and RELP `open` together. */
  readonly connectTimeoutMs: number;
  /** Commands sent and not yet answered, at most (relp.md: "the number of outstanding commands is limited by a window"). */
  readonly window?: number;
}

/** An open RELP session: `syslog` commands are sent in order, at most `window` unanswered at a time. */
export interface RelpSession {
  /** Sends `message` as a `syslog` command; `acked` is called once: undefined on `rsp 200`, else the error that ended the session. */
  syslog(message: Buffer, acked: (err: NodeJS.ErrnoException | undefined) => void): void;
  /** False once the session failed or was closed (every later `syslog` fails at once), or should be renewed (its transaction numbers run out). */
  readonly alive: boolean;
  /** Sends `close` and ends the connection; commands still unanswered fail. */
  close(): void;
}

const DEFAULT_WINDOW = 128;
/** Largest `rsp` data accepted from the receiver: answers are a status line and, for `open`, a few offers. */
const MAX_RSP_BYTES = 64 * 1024;
const CLOSE_GRACE_MS = 1000;

/**
 * Connects over TLS (the certificate verified against `ca` and `serverName`, never skipped) and opens a
 * RELP session (relp.md, "Command open": offers `relp_version=0` and `commands=syslog`; the session is
 * usable only once the receiver's `rsp 200` accepted both). Rejects with the reason, naming no secret.
 *
 * Any non-200 `rsp`, a `serverclose` hint, a framing error, a socket error or close ends the session:
 * every command not yet answered fails (relp.md: "Any outstanding commands are considered to have been
 * unsuccessful in this case"). The caller opens a new session; nothing is resent here.
 */
export function connectRelp(options: RelpConnectOptions): Promise<RelpSession> {
  const expectedName = options.serverName ?? options.host;
  const window = options.window ?? DEFAULT_WINDOW;
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = connect({
      host: options.host,
      port: options.port,
      ca: options.ca,
      ...(options.cert !== undefined && options.key !== undefined ? { cert: options.cert, key: options.key } : {}),
      // RFC 6066 §3: SNI carries DNS names only; the identity check below covers IP addresses too.
      ...(isIP(expectedName) === 0 ? { servername: expectedName } : {}),
      checkServerIdentity: (_host, cert) => checkServerIdentity(expectedName, cert),
      // Explicit: Node's default follows NODE_TLS_REJECT_UNAUTHORIZED, which must never switch this check off.
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    const readFrames = createFrameReader(MAX_RSP_BYTES);
    const waiting = new Map<number, (err: NodeJS.ErrnoException | undefined) => void>();
    const unsent: { message: Buffer; acked: (err: NodeJS.ErrnoException | undefined) => void }[] = [];
    let txnr = 1;
    let opened = false;
    let failure: NodeJS.ErrnoException | undefined;

    const timer = setTimeout(() => fail(relpError(`no RELP session within ${options.connectTimeoutMs} ms`)), options.connectTimeoutMs);
    timer.unref();

    const fail = (err: NodeJS.ErrnoException): void => {
      if (failure !== undefined) return;
      failure = err;
      clearTimeout(timer);
      socket.destroy();
      if (!opened) reject(err);
      const callbacks = [...waiting.values(), ...unsent.map((u) => u.acked)];
      waiting.clear();
      unsent.length = 0;
      for (const acked of callbacks) acked(err);
    };

    const send = (command: string, data: Buffer, acked: (err: NodeJS.ErrnoException | undefined) => void): void => {
      // librelp expects each txnr one more than the last and has no wrap the other side agrees on: the sink
      // renews the session long before this (see `alive`); past it the session ends.
      if (txnr > MAX_TXNR) {
        acked(relpError('RELP transaction numbers exhausted on this session'));
        fail(relpError('RELP transaction numbers exhausted on this session'));
        return;
      }
      waiting.set(txnr, acked);
      socket.write(encodeFrame(txnr, command, data));
      txnr = nextTxnr(txnr);
    };
    const pump = (): void => {
      while (failure === undefined && opened && waiting.size < window) {
        const next = unsent.shift();
        if (next === undefined) return;
        send('syslog', next.message, next.acked);
      }
    };

    const onFrame = (frame: RelpFrame): void => {
      if (frame.txnr === 0) {
        // Hints: `serverclose` says the receiver is closing; any other hint is ignored (relp.md, "COMMAND SEMANTICS").
        if (frame.command === 'serverclose') fail(relpError('the receiver closed the session (serverclose)'));
        return;
      }
      const acked = waiting.get(frame.txnr);
      if (frame.command !== 'rsp' || acked === undefined) {
        fail(relpError(`unexpected RELP frame "${frame.txnr} ${frame.command}"`));
        return;
      }
      waiting.delete(frame.txnr);
      const rsp = parseResponse(frame.data);
      if (rsp.status !== 200) {
        fail(relpError(`the receiver refused with rsp "${rsp.text.slice(0, 80)}"`));
        return;
      }
      acked(undefined);
      pump();
    };

    socket.on('secureConnect', () => {
      // A second guard: whatever the options, a session never opens on an unverified certificate.
      if (!socket.authorized) {
        fail(relpError(`the receiver's certificate was not verified: ${String(socket.authorizationError)}`));
        return;
      }
      const offers = Buffer.from('relp_version=0\nrelp_software=callguard\ncommands=syslog', 'latin1');
      waiting.set(txnr, (err) => {
        if (err !== undefined) return;
        opened = true;
        clearTimeout(timer);
        resolve(session);
        pump();
      });
      socket.write(encodeFrame(txnr, 'open', offers));
      txnr = nextTxnr(txnr);
    });
    socket.on('data', (chunk: Buffer) => {
      let frames: RelpFrame[];
      try {
        frames = readFrames(chunk);
      } catch (err) {
        fail(relpError((err as Error).message));
        return;
      }
      for (const frame of frames) {
        if (failure !== undefined) return;
        if (!opened && frame.txnr === 1 && frame.command === 'rsp') {
          const problem = openProblem(frame);
          if (problem !== undefined) {
            fail(relpError(problem));
            return;
          }
        }
        onFrame(frame);
      }
    });
    socket.on('error', (err) => fail(err));
    socket.on('close', () => fail(relpError('the receiver closed the connection')));

    const session: RelpSession = {
      syslog(message, acked) {
        if (failure !== undefined) {
          acked(failure);
          return;
        }
        unsent.push({ message, acked });
        pump();
      },
      get alive() {
        return failure === undefined && txnr < TXNR_RENEW_AT;
      },
      close() {
        if (failure !== undefined) return;
        const pending = [...waiting.values(), ...unsent.map((u) => u.acked)];
        failure = relpError('the session was closed');
        waiting.clear();
        unsent.length = 0;
        for (const acked of pending) acked(failure);
        // relp.md, "Command close": no command after it; the receiver answers and closes.
        socket.end(encodeFrame(txnr, 'close', Buffer.alloc(0)));
        setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
      },
    };
  });
}

/** Why the receiver's answer to `open` does not allow a session, if it does not. */
function openProblem(frame: RelpFrame): string | undefined {
  const rsp = parseResponse(frame.data);
  if (rsp.status !== 200) return `the receiver refused the RELP session: "${rsp.text.slice(0, 80)}"`;
  const offers = new Map(rsp.body.split('\n').map((offer) => [offer.split('=')[0], offer.slice(offer.indexOf('=') + 1)] as const));
  if (!offers.has('relp_version')) return 'the receiver offered no relp_version';
  if (!(offers.get('commands') ?? '').split(',').includes('syslog')) return 'the receiver does not accept the syslog command';
  return undefined;
}

/** A RELP-level failure: no `code`, so the decision log's gap record carries this message (socket errors keep their code). */
function relpError(message: string): NodeJS.ErrnoException {
  return new Error(message);
}
