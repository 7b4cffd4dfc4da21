import { type ConnectionOptions, connect } from 'node:tls';

/** What one TLS handshake came to: the negotiated version and suite, or the error that ended it. */
export type HandshakeResult = { readonly ok: true; readonly protocol: string; readonly cipher: string } | { readonly ok: false; readonly error: string };

/**
 * One TLS handshake with a real client (node:tls, OpenSSL), then close. For protocol versions, suites,
 * signature algorithms and groups: in TLS 1.3 a server refuses a client certificate only after the
 * client's Finished, which this probe does not wait for (send a request for that).
 */
export function probeTls(port: number, options: ConnectionOptions): Promise<HandshakeResult> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: HandshakeResult) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(result);
    };
    // SECLEVEL=0 lets the probe OFFER what the server must refuse (TLS 1.1, SHA-1); the server decides.
    const socket = connect({ host: '127.0.0.1', port, ciphers: 'DEFAULT:@SECLEVEL=0', ...options }, () =>
      done({ ok: true, protocol: socket.getProtocol() ?? '', cipher: socket.getCipher().name }),
    );
    socket.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, error: err.code ?? err.message }));
    socket.on('close', () => done({ ok: false, error: 'closed' }));
  });
}

/** One offer a test client makes, and whether a server on the TLS profile completes the handshake. */
export interface ProbeRow {
  readonly name: string;
  readonly options: ConnectionOptions;
  readonly ok: boolean;
}

const tls12 = (suite: string): ConnectionOptions => ({ maxVersion: 'TLSv1.2', ciphers: `${suite}:@SECLEVEL=0` });

/** TLS 1.2 with ECDHE and AEAD (ECDSA server keys): accepted wherever TLS 1.2 is. */
export const AEAD_TLS12_OFFERS: readonly ProbeRow[] = [
  { name: 'TLS 1.2 AES-GCM', options: tls12('ECDHE-ECDSA-AES128-GCM-SHA256'), ok: true },
  { name: 'TLS 1.2 ChaCha20', options: tls12('ECDHE-ECDSA-CHACHA20-POLY1305'), ok: true },
];

/** What the TLS audit found offered (testssl: LUCKY13 "potentially"), and TLS 1.1: refused everywhere. */
export const REFUSED_OFFERS: readonly ProbeRow[] = [
  { name: 'TLS 1.2 ECDHE-ECDSA-AES128-SHA (CBC)', options: tls12('ECDHE-ECDSA-AES128-SHA'), ok: false },
  { name: 'TLS 1.2 ECDHE-ECDSA-AES256-SHA (CBC)', options: tls12('ECDHE-ECDSA-AES256-SHA'), ok: false },
  { name: 'TLS 1.2 ECDHE-ECDSA-AES128-SHA256 (CBC)', options: tls12('ECDHE-ECDSA-AES128-SHA256'), ok: false },
  { name: 'TLS 1.2 ECDHE-ECDSA-AES256-SHA384 (CBC)', options: tls12('ECDHE-ECDSA-AES256-SHA384'), ok: false },
  { name: 'TLS 1.2 CCM8', options: tls12('ECDHE-ECDSA-AES128-CCM8'), ok: false },
  { name: 'TLS 1.2 ARIA', options: tls12('ECDHE-ECDSA-ARIA128-GCM-SHA256'), ok: false },
  { name: 'TLS 1.1', options: { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1' }, ok: false },
];

/** TLS 1.3 (all of its suites are AEAD). */
export const TLS13_OFFER: ProbeRow = { name: 'TLS 1.3', options: { minVersion: 'TLSv1.3' }, ok: true };
