import { Control } from 'ldapts';

/**
 * LDAP_SERVER_EXTENDED_DN_OID. Without a value, DN-valued attributes (member, memberOf, manager,
 * ...) and the entry's own DN come back as `<GUID=hex>;<SID=hex>;CN=...`; the hex GUID is the
 * objectGUID byte order as stored.
 */
export const EXTENDED_DN_OID = '1.2.840.113556.1.4.529';

export class ExtendedDnControl extends Control {
  constructor() {
    super(EXTENDED_DN_OID, { critical: false });
  }
}

export interface ExtendedDn {
  guid: Buffer | null;
  sid: Buffer | null;
  dn: string;
}

const EXTENDED = /^<GUID=([0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})>;(?:<SID=([0-9a-fA-F]*)>;)?(.*)$/s;

/** Split an extended DN; a plain DN comes back with guid and sid null. */
export function parseExtendedDn(value: string): ExtendedDn {
  const m = EXTENDED.exec(value);
  if (!m) return { guid: null, sid: null, dn: value };
  const rawGuid = m[1]!;
  // The string form (with dashes) appears only in the control's "string" mode and in a few
  // attributes such as lastKnownParent on Samba; convert it to stored byte order.
  const guid = rawGuid.includes('-') ? guidStringToBytes(rawGuid) : Buffer.from(rawGuid, 'hex');
  return { guid, sid: m[2] ? Buffer.from(m[2], 'hex') : null, dn: m[3]! };
}

export function isExtendedDn(value: string): boolean {
  return EXTENDED.test(value);
}

function guidStringToBytes(text: string): Buffer {
  const h = text.replace(/-/g, '');
  const le = (s: string) => s.match(/../g)!.reverse().join('');
  return Buffer.from(le(h.slice(0, 8)) + le(h.slice(8, 12)) + le(h.slice(12, 16)) + h.slice(16), 'hex');
}
