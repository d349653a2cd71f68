import { Ber, BerReader, BerWriter, Control } from 'ldapts';

/** LDAP_SERVER_DIRSYNC_OID: AD's "what changed since this cookie" search control (MS-ADTS 3.1.1.3.4.1.3). */
export const DIRSYNC_OID = '1.2.840.113556.1.4.841';

export const DIRSYNC_FLAGS = {
  /** Return only what the caller may read (needs no replication right; we do not use it). */
  OBJECT_SECURITY: 0x1,
  ANCESTORS_FIRST_ORDER: 0x800,
  PUBLIC_DATA_ONLY: 0x2000,
  /** Return only changed values of multi-valued attributes (added: range=1-1, removed: range=0-0). */
  INCREMENTAL_VALUES: 0x80000000,
} as const;

export interface DirSyncRequest {
  flags: number;
  maxBytes: number;
  cookie: Buffer;
}

export interface DirSyncResponse {
  moreResults: boolean;
  cookie: Buffer;
}

/** The request value: SEQUENCE { Flags INTEGER, MaxBytes INTEGER, Cookie OCTET STRING }. */
export function encodeDirSyncRequest(req: DirSyncRequest): Buffer {
  const w = new BerWriter();
  w.startSequence();
  // Flags is a signed 32-bit INTEGER on the wire: 0x80000000 is written as -2147483648.
  w.writeInt(req.flags | 0);
  w.writeInt(req.maxBytes | 0);
  w.writeBuffer(req.cookie, Ber.OctetString);
  w.endSequence();
  return w.buffer;
}

/** The response value: SEQUENCE { MoreResults INTEGER, unused INTEGER, CookieServer OCTET STRING }. */
export function decodeDirSyncResponse(value: Buffer | BerReader): DirSyncResponse {
  const r = Buffer.isBuffer(value) ? new BerReader(value) : value;
  if (r.readSequence() === null) throw new Error('DirSync response control: no SEQUENCE');
  const more = r.readInt();
  r.readInt();
  const cookie = r.readString(Ber.OctetString, true) ?? Buffer.alloc(0);
  return { moreResults: (more ?? 0) !== 0, cookie };
}

/**
 * The DirSync control for ldapts' search(): ldapts parses the server's response control into the
 * request instance (same OID), so after the search `moreResults` and `cookie` hold the answer.
 */
export class DirSyncControl extends Control {
  moreResults = false;
  cookie: Buffer;
  readonly flags: number;
  readonly maxBytes: number;
  responded = false;

  constructor(options: { flags?: number; maxBytes?: number; cookie?: Buffer | null } = {}) {
    super(DIRSYNC_OID, { critical: true });
    this.flags = options.flags ?? DIRSYNC_FLAGS.INCREMENTAL_VALUES;
    this.maxBytes = options.maxBytes ?? 1_048_576;
    this.cookie = options.cookie ?? Buffer.alloc(0);
  }

  protected override writeControl(writer: BerWriter): void {
    writer.writeBuffer(encodeDirSyncRequest({ flags: this.flags, maxBytes: this.maxBytes, cookie: this.cookie }), Ber.OctetString);
  }

  protected override parseControl(reader: BerReader): void {
    const res = decodeDirSyncResponse(reader);
    this.moreResults = res.moreResults;
    this.cookie = res.cookie;
    this.responded = true;
  }
}
