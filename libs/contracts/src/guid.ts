import { InputError } from '@canopy/errors';

/**
 * AD stores objectGUID as 16 bytes in Microsoft's mixed-endian GUID layout: the first three
 * groups little-endian, the last two big-endian. The string form is what AD tools print.
 */
export function guidToString(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new InputError(`a GUID is 16 bytes, got ${bytes.length}`, { type: 'Guid.Invalid' });
  const h = Buffer.from(bytes).toString('hex');
  const le = (s: string) => s.match(/../g)!.reverse().join('');
  return `${le(h.slice(0, 8))}-${le(h.slice(8, 12))}-${le(h.slice(12, 16))}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const GUID_RE = /^\{?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}?$/i;

export function guidFromString(text: string): Buffer {
  const m = GUID_RE.exec(text.trim());
  if (!m) throw new InputError(`not a GUID: "${text}"`, { type: 'Guid.Invalid' });
  const le = (s: string) => s.match(/../g)!.reverse().join('');
  return Buffer.from(le(m[1]!) + le(m[2]!) + le(m[3]!) + m[4]! + m[5]!, 'hex');
}

export function isGuidString(text: string): boolean {
  return GUID_RE.test(text.trim());
}

/**
 * Entra's onPremisesImmutableId for an object: base64 of ms-DS-ConsistencyGuid when set (16
 * bytes), else of objectGUID, as Entra Connect and Cloud Sync do.
 */
export function sourceAnchorOf(objectGuid: Uint8Array, consistencyGuid?: Uint8Array | null): string {
  const bytes = consistencyGuid && consistencyGuid.length === 16 ? consistencyGuid : objectGuid;
  return Buffer.from(bytes).toString('base64');
}
