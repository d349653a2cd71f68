import { Ber, BerReader, BerWriter, Control } from 'ldapts';
import { ensureStackUp, type StackInfo } from '../src/index.js';

/** Every integration suite starts here: brings the stack up when it is not (minutes on a fresh machine). */
export const STACK_TIMEOUT_MS = 15 * 60_000;
export function stack(): Promise<StackInfo> {
  return ensureStackUp();
}

/**
 * LDAP_SERVER_DIRSYNC_OID (MS-ADTS 3.1.1.3.4.1.3). Request value: SEQUENCE { flags INTEGER,
 * maxBytes INTEGER, cookie OCTET STRING }; the response control has the same shape, with flags
 * non-zero when more data is waiting. ldapts parses the response into this same instance.
 * (Test helper: the production control belongs to the AD reader.)
 */
export class DirSyncControl extends Control {
  static readonly OID = '1.2.840.113556.1.4.841';
  flags: number;
  maxBytes: number;
  cookie: Buffer;
  moreResults = false;

  constructor(options: { flags?: number; maxBytes?: number; cookie?: Buffer } = {}) {
    super(DirSyncControl.OID, { critical: true });
    this.flags = options.flags ?? 0;
    this.maxBytes = options.maxBytes ?? 1_048_576;
    this.cookie = options.cookie ?? Buffer.alloc(0);
  }

  protected override writeControl(writer: BerWriter): void {
    const w = new BerWriter();
    w.startSequence();
    w.writeInt(this.flags);
    w.writeInt(this.maxBytes);
    if (this.cookie.length) w.writeBuffer(this.cookie, Ber.OctetString);
    else w.writeString('');
    w.endSequence();
    writer.writeBuffer(w.buffer, Ber.OctetString);
  }

  protected override parseControl(reader: BerReader): void {
    if (reader.readSequence()) {
      this.moreResults = (reader.readInt() ?? 0) !== 0;
      reader.readInt();
      this.cookie = reader.readString(Ber.OctetString, true) ?? Buffer.alloc(0);
    }
  }
}
