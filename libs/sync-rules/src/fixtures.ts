import { guidFromString, type AdObjectEvent, type DnRef } from '@canopy/contracts';

/**
 * Builders of realistic AD object events for tests here and in the transformer and CLI. Plain
 * attribute values are given with any case and lower-cased like the reader does.
 */
export interface AdEventSpec {
  dn: string;
  guid?: string;
  objectClass?: AdObjectEvent['objectClass'];
  kind?: AdObjectEvent['kind'];
  domain?: string;
  forest?: string;
  attributes?: Record<string, string | string[]>;
  binary?: Record<string, Buffer | Buffer[]>;
  members?: DnRef[] | null;
  memberOf?: DnRef[];
  usn?: number;
}

export function adEvent(spec: AdEventSpec): AdObjectEvent {
  const attributes: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(spec.attributes ?? {})) attributes[k.toLowerCase()] = Array.isArray(v) ? v : [v];
  const binaryAttributes: Record<string, Buffer[]> = {};
  for (const [k, v] of Object.entries(spec.binary ?? {})) binaryAttributes[k.toLowerCase()] = Array.isArray(v) ? v : [v];
  return {
    forest: spec.forest ?? 'corp.example.test',
    domain: spec.domain ?? 'corp.example.test',
    objectGuid: guidFromString(spec.guid ?? '6f9619ff-8b86-d011-b42d-00cf4fc964ff'),
    objectClass: spec.objectClass ?? 'USER',
    kind: spec.kind ?? 'SNAPSHOT',
    dn: spec.dn,
    usnChanged: spec.usn ?? 1000,
    readAt: new Date('2026-11-23T12:00:00Z'),
    readerId: 'ad-reader-test',
    attributes,
    binaryAttributes,
    members: spec.members ?? null,
    memberOf: spec.memberOf ?? [],
    lastKnownParent: null,
    origin: 'DELTA',
    cycleId: null,
  };
}

export function dnRef(dn: string, guid: string): DnRef {
  return { dn, guid: guidFromString(guid) };
}
