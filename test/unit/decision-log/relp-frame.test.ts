import { describe, expect, it } from 'vitest';
import { createFrameReader, encodeFrame, MAX_TXNR, nextTxnr, parseResponse, TXNR_RENEW_AT } from '../../../src/decision-log/relp-frame.js';

const RESPONSES =
  '1 rsp 93 200 OK\nrelp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog\n2 rsp 6 200 OK\n3 rsp 0\n0 serverclose 0\n';

describe('RELP frames', () => {
  it.each([
    { name: 'with data', txnr: 7, command: 'syslog', data: 'é {"a":1}', wire: '7 syslog 10 é {"a":1}\n' },
    { name: 'without data (no SP, no DATA)', txnr: 12, command: 'close', data: '', wire: '12 close 0\n' },
  ])('encodes $name', ({ txnr, command, data, wire }) => {
    expect(encodeFrame(txnr, command, Buffer.from(data)).toString('utf8')).toBe(wire);
  });

  it('reads what rsyslog sends, cut at every byte', () => {
    const bytes = Buffer.from(RESPONSES);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const read = createFrameReader(1024);
      const frames = [...read(bytes.subarray(0, cut)), ...read(bytes.subarray(cut))];
      expect(frames.map((f) => [f.txnr, f.command, f.data.length])).toEqual([
        [1, 'rsp', 93],
        [2, 'rsp', 6],
        [3, 'rsp', 0],
        [0, 'serverclose', 0],
      ]);
    }
  });

  it.each([
    { name: 'a letter in TXNR', wire: '1a rsp 0\n' },
    { name: 'ten digits of TXNR', wire: '1234567890 rsp 0\n' },
    { name: 'a digit in COMMAND', wire: '1 rsp2 0\n' },
    { name: 'DATALEN 0 followed by SP', wire: '1 rsp 0 \n' },
    { name: 'data without its SP', wire: '1 rsp 3\n200\n' },
    { name: 'no LF trailer', wire: '1 rsp 3 200X' },
    { name: 'DATALEN above the limit', wire: '1 rsp 2000 ' },
    { name: 'an empty TXNR', wire: ' rsp 0\n' },
  ])('refuses $name', ({ wire }) => {
    expect(() => createFrameReader(1024)(Buffer.from(wire))).toThrow(/^RELP framing error/);
  });

  it.each([
    { name: 'OK with offers', data: '200 OK\nrelp_version=0', status: 200, body: 'relp_version=0' },
    { name: 'an error', data: '500 error 12 on connect', status: 500, body: '' },
    { name: 'the empty answer to close', data: '', status: undefined, body: '' },
  ])('parses the rsp status: $name', ({ data, status, body }) => {
    expect(parseResponse(Buffer.from(data))).toMatchObject({ status, body });
  });

  it('wraps the transaction number from 999,999,999 to 1 (0 is for hints)', () => {
    // No wrap to 1: librelp would expect 1000000000 and end the session; sessions are renewed before MAX_TXNR.
    expect([nextTxnr(1), nextTxnr(MAX_TXNR - 1)]).toEqual([2, MAX_TXNR]);
    expect(TXNR_RENEW_AT).toBeLessThan(MAX_TXNR);
  });
});
