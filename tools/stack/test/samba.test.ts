import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  Attribute,
  Change,
  Client,
  InsufficientAccessError,
  InvalidCredentialsError,
  type Entry,
} from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  getForest,
  LARGE_GROUP_MIN_MEMBERS,
  readSecret,
  seededDirectory,
  UNVERIFIED_UPN_SUFFIX,
  type DirectoryModel,
  type ForestInfo,
  type StackInfo,
} from '../src/index.js';
import { DirSyncControl, STACK_TIMEOUT_MS, stack } from './helpers.js';

let info: StackInfo;
beforeAll(async () => {
  info = await stack();
}, STACK_TIMEOUT_MS);

function ldaps(forest: ForestInfo, ca: 'stack' | 'system' = 'stack'): Client {
  return new Client({
    url: forest.ldapsUrl,
    timeout: 60_000,
    connectTimeout: 5_000,
    // CA verified, never rejectUnauthorized: false.
    tlsOptions: ca === 'stack' ? { ca: [readFileSync(forest.caFile)] } : {},
  });
}
async function bindSync(forest: ForestInfo): Promise<Client> {
  const c = ldaps(forest);
  await c.bind(forest.syncAccount.upn, readSecret(forest.syncAccount.passwordFile));
  return c;
}
async function bindAdmin(forest: ForestInfo): Promise<Client> {
  const c = ldaps(forest);
  await c.bind(forest.admin.upn, readSecret(forest.admin.passwordFile));
  return c;
}
const str = (e: Entry, a: string) => {
  const v = e[a];
  return Array.isArray(v) ? String(v[0]) : v === undefined ? undefined : String(v);
};

describe.each(['corp', 'fabrikam'])('Samba AD forest %s', (key) => {
  let forest: ForestInfo;
  let model: DirectoryModel;
  let sync: Client;
  beforeAll(async () => {
    forest = getForest(info, key);
    model = seededDirectory(forest);
    sync = await bindSync(forest);
  });
  afterAll(async () => {
    await sync?.unbind();
  });

  it('describes itself in stack.json', () => {
    expect(forest.ldapsUrl).toBe(`ldaps://${forest.ip}:636`);
    expect(forest.baseDn).toBe(
      forest.name
        .split('.')
        .map((p) => `DC=${p}`)
        .join(','),
    );
    expect(forest.childDomains).toEqual([]);
    expect(readFileSync(forest.caFile, 'utf8')).toContain('BEGIN CERTIFICATE');
  });

  it('serves LDAPS with a certificate that only the stack CA verifies', async () => {
    const untrusted = ldaps(forest, 'system');
    await expect(
      untrusted.bind(forest.syncAccount.upn, readSecret(forest.syncAccount.passwordFile)),
    ).rejects.toThrow(/certificate|self.signed|issuer/i);
    await untrusted.unbind().catch(() => undefined);
    const { searchEntries } = await sync.search(forest.baseDn, { scope: 'base', attributes: ['objectSid'] });
    expect(searchEntries).toHaveLength(1);
  });

  it('rejects a wrong password for the sync account', async () => {
    const c = ldaps(forest);
    await expect(c.bind(forest.syncAccount.upn, 'not-the-password')).rejects.toBeInstanceOf(
      InvalidCredentialsError,
    );
    await c.unbind().catch(() => undefined);
  });

  it('holds the seeded directory: every user, with diacritics and non-Latin names intact', async () => {
    const { searchEntries } = await sync.search(`OU=Canopy,${forest.baseDn}`, {
      scope: 'sub',
      filter: '(&(objectCategory=person)(objectClass=user))',
      attributes: ['sAMAccountName', 'userPrincipalName', 'displayName', 'userAccountControl'],
      paged: { pageSize: 1000 },
    });
    expect(searchEntries).toHaveLength(model.users.length);
    const bySam = new Map(searchEntries.map((e) => [str(e, 'sAMAccountName')!.toLowerCase(), e]));
    for (const u of model.users) {
      const e = bySam.get(u.sAMAccountName.toLowerCase());
      expect(e, u.sAMAccountName).toBeDefined();
      expect(str(e!, 'userPrincipalName')).toBe(u.userPrincipalName);
      expect(str(e!, 'displayName')).toBe(u.displayName);
      expect(Number(str(e!, 'userAccountControl')) & 2).toBe(u.enabled ? 0 : 2);
    }
    const names = model.fixedUsers.map((u) => u.displayName);
    expect(names).toEqual(
      expect.arrayContaining(['Zoë Ångström', '张伟', 'Ολυμπία Παπαδοπούλου', 'Владимир Иванов']),
    );
    expect(model.users.some((u) => u.userPrincipalName.endsWith(`@${UNVERIFIED_UPN_SUFFIX}`))).toBe(true);
    expect(model.users.some((u) => !u.enabled)).toBe(true);
  });

  it('stores a full user: mail, proxyAddresses, manager, department, employeeID, phone', async () => {
    const u = model.users.find((x) => x.managerDn && x.proxyAddresses.length >= 2)!;
    const { searchEntries } = await sync.search(u.dn, {
      scope: 'base',
      attributes: [
        'givenName',
        'sn',
        'mail',
        'proxyAddresses',
        'manager',
        'department',
        'title',
        'employeeID',
        'telephoneNumber',
      ],
    });
    const e = searchEntries[0]!;
    expect(str(e, 'givenName')).toBe(u.givenName);
    expect(str(e, 'sn')).toBe(u.sn);
    expect(str(e, 'mail')).toBe(u.mail);
    expect([e.proxyAddresses].flat().map(String).sort()).toEqual([...u.proxyAddresses].sort());
    expect(str(e, 'manager')?.toLowerCase()).toBe(u.managerDn!.toLowerCase());
    expect(str(e, 'department')).toBe(u.department);
    expect(str(e, 'employeeID')).toBe(u.employeeID);
    expect(str(e, 'telephoneNumber')).toMatch(/^\+1 425 555 \d{4}$/);
  });

  it('reads changes with DirSync as the sync account (Replicating Directory Changes)', async () => {
    // DirSync returns an object only when one of the REQUESTED attributes changed since the cookie
    // (objectGUID alone never qualifies): ask for objectClass too, which every object has.
    const base = {
      scope: 'sub' as const,
      filter: '(objectClass=*)',
      attributes: ['objectGUID', 'objectClass', 'info'],
      explicitBufferAttributes: ['objectGUID'],
    };
    let control = new DirSyncControl();
    let total = 0;
    for (let round = 0; round < 100; round++) {
      const { searchEntries } = await sync.search(forest.baseDn, base, control);
      total += searchEntries.length;
      expect(control.cookie.length).toBeGreaterThan(0);
      if (!control.moreResults) break;
      control = new DirSyncControl({ cookie: control.cookie });
    }
    expect(total).toBeGreaterThanOrEqual(model.entries.length);

    // A change made by an administrator shows up, alone, with the next cookie.
    const target = model.users[0]!;
    const admin = await bindAdmin(forest);
    const stamp = `dirsync-test ${Date.now()}`;
    try {
      await admin.modify(
        target.dn,
        new Change({ operation: 'replace', modification: new Attribute({ type: 'info', values: [stamp] }) }),
      );
      const next = new DirSyncControl({ cookie: control.cookie });
      const { searchEntries } = await sync.search(forest.baseDn, base, next);
      const changed = searchEntries.find((e) => e.dn.toLowerCase() === target.dn.toLowerCase());
      expect(changed, 'modified user in the DirSync delta').toBeDefined();
      expect(str(changed!, 'info')).toBe(stamp);
      expect((changed!.objectGUID as Buffer).length).toBe(16);
      expect(searchEntries.length).toBeLessThan(10);
    } finally {
      await admin
        .modify(
          target.dn,
          new Change({ operation: 'delete', modification: new Attribute({ type: 'info', values: [] }) }),
        )
        .catch(() => undefined);
      await admin.unbind();
    }
  });

  it('refuses DirSync to an ordinary account (the right is what makes it work)', async () => {
    const admin = await bindAdmin(forest);
    const sam = `tmp-nodirsync-${Date.now() % 1e6}`;
    const dn = `CN=${sam},CN=Users,${forest.baseDn}`;
    const password = `Tmp-${randomUUID()}-9a!`;
    try {
      await admin.add(dn, {
        objectClass: ['top', 'person', 'organizationalPerson', 'user'],
        sAMAccountName: sam,
        userPrincipalName: `${sam}@${forest.name}`,
        userAccountControl: '512',
        unicodePwd: Buffer.from(`"${password}"`, 'utf16le'),
      });
      const plain = ldaps(forest);
      await plain.bind(`${sam}@${forest.name}`, password);
      try {
        // An ordinary user reads the directory ...
        const { searchEntries } = await plain.search(forest.baseDn, { scope: 'base' });
        expect(searchEntries).toHaveLength(1);
        // ... but DirSync needs "Replicating Directory Changes".
        await expect(
          plain.search(
            forest.baseDn,
            { scope: 'sub', filter: '(objectClass=user)', attributes: ['objectClass'] },
            new DirSyncControl(),
          ),
        ).rejects.toBeInstanceOf(InsufficientAccessError);
      } finally {
        await plain.unbind().catch(() => undefined);
      }
    } finally {
      await admin.del(dn).catch(() => undefined);
      await admin.unbind();
    }
  });

  /** The client side of AD range retrieval: ask `member;range=<start>-<end|*>` until the DC answers `-*`. */
  async function rangedMembers(
    dn: string,
    window: number | '*',
  ): Promise<{ members: string[]; ranges: number }> {
    const members: string[] = [];
    let start = 0;
    let ranges = 0;
    for (;;) {
      const upto = window === '*' ? '*' : String(start + window - 1);
      const { searchEntries } = await sync.search(dn, {
        scope: 'base',
        attributes: [`member;range=${start}-${upto}`],
      });
      const entry = searchEntries[0]!;
      const attr = Object.keys(entry).find((k) => /^member;range=/i.test(k));
      if (!attr) throw new Error(`no ranged member attribute in ${Object.keys(entry).join(',')}`);
      const [, , end] = /^member;range=(\d+)-(\d+|\*)$/i.exec(attr)!;
      members.push(...[entry[attr]].flat().map(String));
      ranges++;
      if (end === '*') return { members, ranges };
      start = Number(end) + 1;
      if (ranges > 1000) throw new Error('range retrieval does not end');
    }
  }

  it(`returns all ${LARGE_GROUP_MIN_MEMBERS}+ members of the large group through range retrieval`, async () => {
    const expected = new Set(model.largeGroup.members.map((d) => d.toLowerCase()));
    expect(expected.size).toBeGreaterThan(5000);
    // Windows of 1,500 values, AD's MaxValRange: the loop must stitch several ranges together.
    const windowed = await rangedMembers(model.largeGroup.dn, 1500);
    expect(windowed.ranges).toBe(Math.ceil(expected.size / 1500));
    expect(windowed.members).toHaveLength(expected.size);
    expect(new Set(windowed.members.map((d) => d.toLowerCase()))).toEqual(expected);
    // `member;range=0-*`: a Windows DC cuts this at MaxValRange and the loop continues; Samba
    // answers it in one range. Either way the loop ends with every member.
    const open = await rangedMembers(model.largeGroup.dn, '*');
    expect(new Set(open.members.map((d) => d.toLowerCase()))).toEqual(expected);
  });

  it('keeps the sync account least-privileged: it cannot create or change objects', async () => {
    await expect(
      sync.add(`CN=not-allowed-${Date.now()},OU=Canopy,${forest.baseDn}`, {
        objectClass: ['top', 'person', 'organizationalPerson', 'user'],
        sAMAccountName: `na${Date.now() % 1e8}`,
      }),
    ).rejects.toBeInstanceOf(InsufficientAccessError);
    await expect(
      sync.modify(
        model.users[1]!.dn,
        new Change({
          operation: 'replace',
          modification: new Attribute({ type: 'title', values: ['hacked'] }),
        }),
      ),
    ).rejects.toBeInstanceOf(InsufficientAccessError);
    const { searchEntries } = await sync.search(forest.syncAccount.dn, {
      scope: 'base',
      attributes: ['memberOf', 'adminCount'],
    });
    expect(searchEntries[0]!.memberOf ?? []).toEqual([]);
    expect(searchEntries[0]!.adminCount ?? []).toEqual([]);
  });
});
