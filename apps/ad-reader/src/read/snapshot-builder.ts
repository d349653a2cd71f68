import { isUtf8 } from 'node:buffer';
import type { AdEventOrigin, AdObjectEvent, DnRef } from '@canopy/contracts';
import { parseExtendedDn } from '../ldap/extended-dn.js';
import { parseRangedAttribute } from '../ldap/range-retrieval.js';
import { classify } from './scope.js';

/**
 * Attributes that are binary by definition: always requested as bytes (ldapts would otherwise
 * return a value that happens to be valid UTF-8 as a string) and always emitted in
 * binaryAttributes. Names as AD spells them: ldapts matches explicitBufferAttributes by case.
 */
export const BINARY_ATTRIBUTES = [
  'objectGUID',
  'objectSid',
  'mS-DS-ConsistencyGuid',
  'thumbnailPhoto',
  'jpegPhoto',
  'photo',
  'audio',
  'userCertificate',
  'userSMIMECertificate',
  'userPKCS12',
  'sIDHistory',
  'msExchMailboxGuid',
  'msExchArchiveGUID',
  'msExchMasterAccountSid',
  'msExchSafeSendersHash',
  'msExchBlockedSendersHash',
  'msExchSafeRecipientsHash',
  'logonHours',
  'nTSecurityDescriptor',
  'parentGUID',
  'tokenGroups',
  'msDS-GenerationId',
] as const;

const BINARY = new Set(BINARY_ATTRIBUTES.map((a) => a.toLowerCase()));

/** Never emitted, whatever the DC returns (secrets; DirSync with replication rights returns some). */
export const NEVER_EMITTED = new Set([
  'unicodepwd',
  'dbcspwd',
  'ntpwdhistory',
  'lmpwdhistory',
  'supplementalcredentials',
  'userpassword',
  'msds-managedpassword',
  'ms-mcs-admpwd',
  'currentvalue',
  'priorvalue',
  'trustauthincoming',
  'trustauthoutgoing',
]);

export type EntryValue = string | Buffer | Array<string | Buffer>;
export interface RawEntry {
  dn: string;
  [attribute: string]: EntryValue;
}

export interface SnapshotContext {
  forest: string;
  domain: string;
  readerId: string;
  readAt: Date;
  origin: AdEventOrigin;
  cycleId: string | null;
  /** Extra attributes to drop (lower-case), from configuration. */
  exclude?: ReadonlySet<string>;
}

function asList(v: EntryValue | undefined): Array<string | Buffer> {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

function toBuffer(v: string | Buffer): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8');
}

function toText(v: string | Buffer): string | null {
  if (typeof v === 'string') return v;
  return isUtf8(v) ? v.toString('utf8') : null;
}

/** DN-valued attribute values, each with its GUID (extended-DN control); values without a GUID are skipped. */
export function dnRefs(values: Array<string | Buffer>): DnRef[] {
  const out: DnRef[] = [];
  for (const v of values) {
    const text = toText(v);
    if (text === null) continue;
    const ext = parseExtendedDn(text);
    if (ext.guid && ext.guid.length === 16) out.push({ guid: ext.guid, dn: ext.dn });
  }
  return out;
}

/**
 * Build the event for one complete LDAP entry (read with the extended-DN control, and with
 * show-deleted for tombstones). Returns null for objects out of scope (computers, OUs, ...).
 * `member` must hold every value (the reader resolves ranged retrieval before calling this).
 */
export function buildEvent(entry: RawEntry, ctx: SnapshotContext): AdObjectEvent | null {
  const attributes: Record<string, string[]> = {};
  const binaryAttributes: Record<string, Buffer[]> = {};
  let memberValues: Array<string | Buffer> = [];
  let memberOf: DnRef[] = [];
  for (const [key, raw] of Object.entries(entry)) {
    if (key === 'dn') continue;
    const name = key.toLowerCase();
    if (NEVER_EMITTED.has(name) || ctx.exclude?.has(name)) continue;
    if (parseRangedAttribute(key)) continue;
    const values = asList(raw);
    if (name === 'member') {
      memberValues = values;
      continue;
    }
    if (name === 'memberof') {
      memberOf = dnRefs(values);
      continue;
    }
    if (BINARY.has(name)) {
      binaryAttributes[name] = values.map(toBuffer);
      continue;
    }
    const texts: string[] = [];
    let allText = true;
    for (const v of values) {
      const t = toText(v);
      if (t === null) {
        allText = false;
        break;
      }
      texts.push(parseExtendedDn(t).dn);
    }
    if (allText) attributes[name] = texts;
    else binaryAttributes[name] = values.map(toBuffer);
  }

  const own = parseExtendedDn(entry.dn);
  const objectGuid = binaryAttributes.objectguid?.[0] ?? own.guid;
  if (!objectGuid || objectGuid.length !== 16) return null;
  const objectClass = classify(attributes.objectclass ?? []);
  if (!objectClass) return null;
  const deleted = (attributes.isdeleted?.[0] ?? '').toUpperCase() === 'TRUE';
  const lastKnownParent = attributes.lastknownparent?.[0] ?? null;
  return {
    forest: ctx.forest,
    domain: ctx.domain,
    objectGuid,
    objectClass,
    kind: deleted ? 'TOMBSTONE' : 'SNAPSHOT',
    dn: own.dn,
    usnChanged: Number(attributes.usnchanged?.[0] ?? 0),
    readAt: ctx.readAt,
    readerId: ctx.readerId,
    attributes,
    binaryAttributes,
    members: objectClass === 'GROUP' ? dnRefs(memberValues) : null,
    memberOf,
    lastKnownParent,
    origin: ctx.origin,
    cycleId: ctx.cycleId,
  };
}
