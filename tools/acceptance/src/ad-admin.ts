import { Attribute, Change, Client, Control } from 'ldapts';

class ShowDeleted extends Control {
  constructor() {
    super('1.2.840.113556.1.4.417', { critical: true });
  }
}

/** LDAP_SERVER_TREE_DELETE_OID: delete an object and its subtree in one operation (one transaction on the DC). */
class TreeDelete extends Control {
  constructor() {
    super('1.2.840.113556.1.4.805', { critical: true });
  }
}

/** Administrator writes to AD for the acceptance scenarios (create, modify, move, delete). */
export class AdAdmin {
  constructor(
    readonly client: Client,
    readonly baseDn: string,
    readonly realm: string,
  ) {}

  async ensureOu(dn: string): Promise<void> {
    try {
      await this.client.add(dn, { objectClass: ['top', 'organizationalUnit'], ou: /^OU=([^,]+)/i.exec(dn)![1]! });
    } catch (err) {
      if (!/already exists|68/i.test(String((err as Error).message))) throw err;
    }
  }

  async addUser(ou: string, cn: string, attrs: Record<string, string | string[]> = {}): Promise<string> {
    const dn = `CN=${cn},${ou}`;
    const sam = (attrs.sAMAccountName as string) ?? cn.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 20);
    await this.client.add(dn, {
      objectClass: ['top', 'person', 'organizationalPerson', 'user'],
      cn,
      sAMAccountName: sam,
      userPrincipalName: `${sam}@${this.realm}`,
      displayName: cn,
      userAccountControl: '512',
      ...attrs,
    });
    return dn;
  }

  async addGroup(ou: string, cn: string, members: string[] = [], groupType = '-2147483646'): Promise<string> {
    const dn = `CN=${cn},${ou}`;
    await this.client.add(dn, { objectClass: ['top', 'group'], cn, sAMAccountName: cn.slice(0, 20), groupType, ...(members.length ? { member: members } : {}) });
    return dn;
  }

  async replace(dn: string, attrs: Record<string, string | string[]>): Promise<void> {
    await this.client.modify(
      dn,
      Object.entries(attrs).map(([type, v]) => new Change({ operation: 'replace', modification: new Attribute({ type, values: Array.isArray(v) ? v : [v] }) })),
    );
  }

  async addMembers(group: string, members: string[]): Promise<void> {
    await this.client.modify(group, [new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: members }) })]);
  }

  async removeMembers(group: string, members: string[]): Promise<void> {
    await this.client.modify(group, [new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: members }) })]);
  }

  async move(dn: string, newParent: string): Promise<string> {
    const rdn = dn.slice(0, dn.search(/(?<!\\),/));
    const target = `${rdn},${newParent}`;
    await this.client.modifyDN(dn, target);
    return target;
  }

  async anchorOf(dn: string): Promise<string> {
    const { searchEntries } = await this.client.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes: ['objectGUID'], explicitBufferAttributes: ['objectGUID'] });
    return (searchEntries[0]!.objectGUID as Buffer).toString('base64');
  }

  /** AD "restore": reanimate the tombstone of `anchor` (base64 objectGUID) under a new DN. */
  async restore(anchor: string, newDn: string): Promise<void> {
    const hex = Buffer.from(anchor, 'base64').toString('hex');
    const { searchEntries } = await this.client.search(`<GUID=${hex}>`, { scope: 'base', filter: '(objectClass=*)', attributes: ['distinguishedName'] }, [new ShowDeleted()]);
    await this.client.modify(
      searchEntries[0]!.dn,
      [
        new Change({ operation: 'delete', modification: new Attribute({ type: 'isDeleted', values: [] }) }),
        new Change({ operation: 'replace', modification: new Attribute({ type: 'distinguishedName', values: [newDn] }) }),
      ],
      [new ShowDeleted()],
    );
  }

  async delete(dn: string): Promise<void> {
    await this.client.del(dn);
  }

  /** Delete an OU and everything under it in one request (what an admin's "delete OU" does). */
  async treeDelete(dn: string): Promise<void> {
    await this.client.del(dn, [new TreeDelete()]);
  }

  /** Anchors (base64 objectGUID) of the users directly under `ou`. */
  async userAnchorsUnder(ou: string): Promise<string[]> {
    const { searchEntries } = await this.client.search(ou, {
      scope: 'one',
      filter: '(&(objectClass=user)(objectCategory=person))',
      attributes: ['objectGUID'],
      explicitBufferAttributes: ['objectGUID'],
      paged: { pageSize: 500 },
    });
    return searchEntries.map((e) => (e.objectGUID as Buffer).toString('base64'));
  }

  /** Delete a subtree, leaves first. */
  async deleteTree(dn: string): Promise<void> {
    // distinguishedName as AD spells it: the entry's dn as parsed back by ldapts loses the
    // escaping of some RDNs (a leading '#', '=', ...), and their delete would fail unseen.
    const { searchEntries } = await this.client.search(dn, { scope: 'sub', filter: '(objectClass=*)', attributes: ['distinguishedName'] }).catch(() => ({ searchEntries: [] }));
    const dns = searchEntries.map((e) => String(e.distinguishedName ?? e.dn)).sort((a, b) => b.split(/(?<!\\),/).length - a.split(/(?<!\\),/).length);
    for (const d of dns) await this.client.del(d).catch(() => undefined);
  }
}
