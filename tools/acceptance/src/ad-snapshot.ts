import { Client } from 'ldapts';

/**
 * The oracle's own view of AD: a plain paged LDAP read as an administrator, with range retrieval
 * for large groups. Deliberately shares no code with the reader.
 */
export interface AdEntry {
  dn: string;
  guid: Buffer;
  classes: string[];
  attrs: Record<string, string[]>;
  members: string[];
}

const ATTRS = [
  'objectGUID', 'objectClass', 'cn', 'displayName', 'givenName', 'sn', 'title', 'department', 'employeeID', 'mail',
  'userPrincipalName', 'sAMAccountName', 'userAccountControl', 'groupType', 'isCriticalSystemObject', 'member',
];

function values(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x)));
}

export async function readDirectory(client: Client, baseDn: string): Promise<AdEntry[]> {
  const { searchEntries } = await client.search(baseDn, {
    scope: 'sub',
    filter: '(&(|(objectClass=user)(objectClass=group)(objectClass=contact))(!(objectClass=computer)))',
    attributes: ATTRS,
    explicitBufferAttributes: ['objectGUID'],
    paged: { pageSize: 1000 },
  });
  const out: AdEntry[] = [];
  for (const e of searchEntries) {
    const attrs: Record<string, string[]> = {};
    let members: string[] = [];
    let ranged: string | null = null;
    for (const [k, v] of Object.entries(e)) {
      const key = k.toLowerCase();
      if (key === 'dn' || key === 'objectguid') continue;
      if (key === 'member') members = values(v);
      else if (key.startsWith('member;range=')) {
        members = values(v);
        ranged = key;
      } else attrs[key] = values(v);
    }
    while (ranged && !ranged.endsWith('-*')) {
      const next = Number(ranged.split('-')[1]) + 1;
      const { searchEntries: more } = await client.search(e.dn, {
        scope: 'base',
        filter: '(objectClass=*)',
        attributes: [`member;range=${next}-*`],
      });
      ranged = null;
      for (const [k, v] of Object.entries(more[0] ?? {})) {
        if (k.toLowerCase().startsWith('member;range=')) {
          members.push(...values(v));
          ranged = k.toLowerCase();
        }
      }
    }
    out.push({ dn: e.dn, guid: e.objectGUID as Buffer, classes: values(e.objectClass).map((c) => c.toLowerCase()), attrs, members });
  }
  return out;
}
