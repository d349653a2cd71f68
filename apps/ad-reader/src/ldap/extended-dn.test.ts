import { BerReader, BerWriter } from 'ldapts';
import { describe, expect, it } from 'vitest';
import { EXTENDED_DN_OID, ExtendedDnControl, parseExtendedDn } from './extended-dn.js';
import { NOTIFICATION_OID, NotificationControl, SHOW_DELETED_OID, ShowDeletedControl } from './simple-controls.js';

describe('extended DN', () => {
  it('splits <GUID=hex>;<SID=hex>;DN keeping the stored GUID byte order', () => {
    const v = '<GUID=901321bfafc6e8439034159d9dfc854e>;<SID=01050000000000051500000042273bf9a4263d845dfa77204f040000>;CN=u1,OU=x,DC=corp,DC=example,DC=test';
    const p = parseExtendedDn(v);
    expect(p.guid!.toString('hex')).toBe('901321bfafc6e8439034159d9dfc854e');
    expect(p.sid!.toString('hex')).toBe('01050000000000051500000042273bf9a4263d845dfa77204f040000');
    expect(p.dn).toBe('CN=u1,OU=x,DC=corp,DC=example,DC=test');
  });

  it('accepts objects without a SID (contacts) and the dashed GUID form', () => {
    expect(parseExtendedDn('<GUID=fed6546922473942b6bfdb4410e545c3>;CN=c1,DC=x').dn).toBe('CN=c1,DC=x');
    const dashed = parseExtendedDn('<GUID=707a452d-1823-42a6-94bc-4954943bf636>;OU=y,DC=x');
    expect(dashed.guid!.toString('hex')).toBe('2d457a702318a64294bc4954943bf636');
    expect(dashed.dn).toBe('OU=y,DC=x');
  });

  it('returns plain DNs unchanged and keeps commas, semicolons and escapes of the DN', () => {
    expect(parseExtendedDn('CN=Smith\\, John;x,DC=x')).toEqual({ guid: null, sid: null, dn: 'CN=Smith\\, John;x,DC=x' });
    expect(parseExtendedDn('<GUID=zz>;CN=a').guid).toBeNull();
  });

  it('controls carry their OIDs and no value', () => {
    for (const [c, oid] of [
      [new ExtendedDnControl(), EXTENDED_DN_OID],
      [new ShowDeletedControl(), SHOW_DELETED_OID],
      [new NotificationControl(), NOTIFICATION_OID],
    ] as const) {
      const w = new BerWriter();
      c.write(w);
      const r = new BerReader(w.buffer);
      r.readSequence();
      expect(r.readString()).toBe(oid);
      expect(r.remain).toBeLessThanOrEqual(3); // at most the criticality BOOLEAN
    }
  });
});
