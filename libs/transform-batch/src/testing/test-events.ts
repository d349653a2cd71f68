import { randomUUID } from 'node:crypto';
import { guidFromString, type AdObjectEvent } from '@canopy/contracts';

/** A realistic user snapshot for tests (lower-cased attribute names, as the reader emits). */
export function userEvent(forest: string, name: string, extra: Record<string, string[]> = {}): AdObjectEvent {
  const domain = forest;
  const dc = domain.split('.').map((p) => `DC=${p}`).join(',');
  return {
    forest,
    domain,
    objectGuid: guidFromString(randomUUID()),
    objectClass: 'USER',
    kind: 'SNAPSHOT',
    dn: `CN=${name},OU=Sales,${dc}`,
    usnChanged: 1000,
    readAt: new Date(),
    readerId: 'test',
    attributes: {
      objectclass: ['top', 'person', 'organizationalPerson', 'user'],
      cn: [name],
      givenname: [name.split(' ')[0]!],
      sn: [name.split(' ')[1] ?? 'Test'],
      displayname: [name],
      samaccountname: [name.toLowerCase().replace(/[^a-z]/g, '')],
      userprincipalname: [`${name.toLowerCase().replace(/[^a-z]/g, '.')}@${domain}`],
      useraccountcontrol: ['512'],
      ...extra,
    },
    binaryAttributes: {},
    members: null,
    memberOf: [],
    lastKnownParent: null,
    origin: 'DELTA',
    cycleId: null,
  };
}
