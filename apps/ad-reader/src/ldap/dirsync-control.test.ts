import { Ber, BerReader, BerWriter } from 'ldapts';
import { describe, expect, it } from 'vitest';
import { DIRSYNC_FLAGS, DIRSYNC_OID, DirSyncControl, decodeDirSyncResponse, encodeDirSyncRequest } from './dirsync-control.js';

describe('DirSync control BER', () => {
  it('encodes SEQUENCE { flags, maxBytes, cookie } with 0x80000000 as a negative 32-bit INTEGER', () => {
    const cookie = Buffer.from('0102030405', 'hex');
    const value = encodeDirSyncRequest({ flags: DIRSYNC_FLAGS.INCREMENTAL_VALUES, maxBytes: 1_048_576, cookie });
    // 30 len | 02 04 80 00 00 00 | 02 03 10 00 00 | 04 05 0102030405
    expect(value.toString('hex')).toBe('3012' + '020480000000' + '0203100000' + '04050102030405');
    const r = new BerReader(value);
    r.readSequence();
    expect(r.readInt()).toBe(-2147483648);
    expect(r.readInt()).toBe(1_048_576);
    expect(r.readString(Ber.OctetString, true)).toEqual(cookie);
  });

  it('encodes an empty cookie for the first call', () => {
    expect(encodeDirSyncRequest({ flags: 0, maxBytes: 0, cookie: Buffer.alloc(0) }).toString('hex')).toBe('3008020100020100' + '0400');
  });

  it('decodes the response value: moreResults and the new cookie', () => {
    const w = new BerWriter();
    w.startSequence();
    w.writeInt(1);
    w.writeInt(0);
    w.writeBuffer(Buffer.from('cafe', 'hex'), Ber.OctetString);
    w.endSequence();
    expect(decodeDirSyncResponse(w.buffer)).toEqual({ moreResults: true, cookie: Buffer.from('cafe', 'hex') });
  });

  it('writes the control as type, criticality and an OCTET STRING value, and parses the answer into itself', () => {
    const control = new DirSyncControl({ cookie: Buffer.from('aa', 'hex') });
    const w = new BerWriter();
    control.write(w);
    const r = new BerReader(w.buffer);
    r.readSequence();
    expect(r.readString()).toBe(DIRSYNC_OID);
    expect(r.readBoolean()).toBe(true);
    const inner = r.readString(Ber.OctetString, true)!;
    expect(inner).toEqual(encodeDirSyncRequest({ flags: DIRSYNC_FLAGS.INCREMENTAL_VALUES, maxBytes: 1_048_576, cookie: Buffer.from('aa', 'hex') }));

    const resp = new BerWriter();
    resp.startSequence();
    resp.writeInt(0);
    resp.writeInt(0);
    resp.writeBuffer(Buffer.from('beef', 'hex'), Ber.OctetString);
    resp.endSequence();
    control.parse(new BerReader(resp.buffer));
    expect(control.responded).toBe(true);
    expect(control.moreResults).toBe(false);
    expect(control.cookie.toString('hex')).toBe('beef');
  });
});
