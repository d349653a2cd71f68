import type { AdObjectClass } from '@canopy/contracts';

/**
 * What the reader reads: users (inetOrgPerson is a subclass of user), groups and contacts.
 * Computers are users too in AD's class hierarchy, so they are excluded explicitly. objectClass
 * (not objectCategory) is used because tombstones keep objectClass but lose objectCategory.
 */
export const IN_SCOPE_FILTER = '(&(|(objectClass=user)(objectClass=group)(objectClass=contact))(!(objectClass=computer)))';

/** Combine the scope with another filter. */
export function scoped(filter: string): string {
  return `(&${IN_SCOPE_FILTER}${filter})`;
}

/** Classify by objectClass values (any case); null for out-of-scope objects (computers, OUs, ...). */
export function classify(objectClasses: string[]): AdObjectClass | null {
  const set = new Set(objectClasses.map((c) => c.toLowerCase()));
  if (set.has('computer')) return null;
  if (set.has('inetorgperson')) return 'INET_ORG_PERSON';
  if (set.has('user')) return 'USER';
  if (set.has('group')) return 'GROUP';
  if (set.has('contact')) return 'CONTACT';
  return null;
}
