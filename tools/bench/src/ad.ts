import { readFileSync } from 'node:fs';
import { Attribute, Change, Client } from 'ldapts';
import { readSecret, type ForestInfo } from '@canopy/stack';

/** The benchmarks' own tree on a forest, outside OU=Canopy, kept across runs. */
export const benchOu = (f: ForestInfo) => `OU=Bench,${f.baseDn}`;

export async function adminClient(f: ForestInfo): Promise<Client> {
  const client = new Client({ url: f.ldapsUrl, timeout: 120_000, tlsOptions: { ca: [readFileSync(f.caFile)] } });
  await client.bind(f.admin.dn, readSecret(f.admin.passwordFile));
  return client;
}

async function ensureOu(c: Client, dn: string): Promise<void> {
  try {
    await c.add(dn, { objectClass: ['top', 'organizationalUnit'], ou: /^OU=([^,]+)/i.exec(dn)![1]! });
  } catch (err) {
    if (!/already exists|ENTRY_EXISTS|68/i.test(String((err as Error).message))) throw err;
  }
}

function isNoSuchObject(err: unknown): boolean {
  return (err as { code?: number }).code === 32 || /no such object/i.test(String((err as Error).message));
}

/** Count the entries under `base` matching `filter` (paged, no attributes). */
export async function countUnder(c: Client, base: string, filter: string): Promise<Set<string>> {
  const dns = new Set<string>();
  try {
    for await (const page of c.searchPaginated(base, { scope: 'sub', filter, attributes: ['1.1'], timeLimit: 0, paged: { pageSize: 1000 } })) {
      for (const e of page.searchEntries) dns.add(e.dn.toLowerCase());
    }
  } catch (err) {
    // Samba answers a missing base with code 32 (0x20) and a message like "acl_read: Error
    // retrieving instanceType for base", which names neither.
    if (isNoSuchObject(err)) return dns;
    throw err;
  }
  return dns;
}

export const benchUserCn = (i: number) => `bench-user-${String(i).padStart(6, '0')}`;

/**
 * Make sure OU=Bench holds `users` users (bench-user-000000 ...) and `groups` groups of
 * `membersPerGroup` members each. Idempotent: counts first and adds only what is missing, over
 * `concurrency` parallel LDAP connections (Samba serializes writes; a few connections hide latency).
 */
export async function ensureBenchObjects(
  f: ForestInfo,
  want: { users: number; groups: number; membersPerGroup: number },
  say: (m: string) => void,
  concurrency = 6,
): Promise<{ users: number; groups: number; added: number; seconds: number }> {
  const t0 = Date.now();
  const ou = benchOu(f);
  const clients = await Promise.all(Array.from({ length: concurrency }, () => adminClient(f)));
  const c = clients[0]!;
  let added = 0;
  try {
    await ensureOu(c, ou);
    const users = await countUnder(c, ou, '(&(objectClass=user)(!(objectClass=computer)))');
    const missing: number[] = [];
    for (let i = 0; i < want.users; i++) if (!users.has(`cn=${benchUserCn(i)},${ou}`.toLowerCase())) missing.push(i);
    if (missing.length) say(`seeding ${missing.length} users into ${ou} (${users.size} present) ...`);
    let next = 0;
    let last = Date.now();
    await Promise.all(
      clients.map(async (cl) => {
        for (let k = next++; k < missing.length; k = next++) {
          const i = missing[k]!;
          const cn = benchUserCn(i);
          const sam = `bu${String(i).padStart(6, '0')}`;
          await cl.add(`CN=${cn},${ou}`, {
            objectClass: ['top', 'person', 'organizationalPerson', 'user'],
            cn,
            sAMAccountName: sam,
            userPrincipalName: `${sam}@${f.name}`,
            givenName: 'Bench',
            sn: `User ${i}`,
            displayName: `Bench User ${i}`,
            mail: `${sam}@${f.name}`,
            title: 'Engineer',
            department: `Dept ${i % 50}`,
            userAccountControl: '512',
          });
          added++;
          if (Date.now() - last > 5_000) {
            last = Date.now();
            say(`  ${added}/${missing.length} users added (${Math.round(added / ((Date.now() - t0) / 1000))}/s)`);
          }
        }
      }),
    );
    const groups = await countUnder(c, ou, '(objectClass=group)');
    for (let g = 0; g < want.groups; g++) {
      const cn = `bench-group-${String(g).padStart(4, '0')}`;
      const dn = `CN=${cn},${ou}`;
      if (groups.has(dn.toLowerCase())) continue;
      const members = Array.from({ length: want.membersPerGroup }, (_, j) => `CN=${benchUserCn((g * want.membersPerGroup + j) % want.users)},${ou}`);
      await c.add(dn, { objectClass: ['top', 'group'], cn, sAMAccountName: cn, groupType: '-2147483646' });
      await c.modify(dn, new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: members }) }));
      added++;
    }
    const u = (await countUnder(c, ou, '(&(objectClass=user)(!(objectClass=computer)))')).size;
    const gr = (await countUnder(c, ou, '(objectClass=group)')).size;
    return { users: u, groups: gr, added, seconds: (Date.now() - t0) / 1000 };
  } finally {
    await Promise.all(clients.map((cl) => cl.unbind().catch(() => undefined)));
  }
}

/** Make sure `ou` holds users <prefix>-000 .. <prefix>-<n-1>; returns DN -> objectGUID. Idempotent. */
export async function ensureUsers(f: ForestInfo, ou: string, prefix: string, n: number): Promise<Map<string, Buffer>> {
  const c = await adminClient(f);
  try {
    await ensureOu(c, ou);
    const present = await countUnder(c, ou, '(objectClass=user)');
    for (let i = 0; i < n; i++) {
      const cn = `${prefix}-${String(i).padStart(3, '0')}`;
      const dn = `CN=${cn},${ou}`;
      if (present.has(dn.toLowerCase())) continue;
      const sam = `${prefix.replace(/[^a-z0-9]/gi, '').slice(0, 14)}${String(i).padStart(3, '0')}`;
      await c.add(dn, {
        objectClass: ['top', 'person', 'organizationalPerson', 'user'],
        cn,
        sAMAccountName: sam,
        userPrincipalName: `${sam}@${f.name}`,
        givenName: 'Delta',
        sn: `User ${i}`,
        displayName: `Delta User ${i}`,
        userAccountControl: '512',
      });
    }
    const out = new Map<string, Buffer>();
    for await (const page of c.searchPaginated(ou, { scope: 'one', filter: '(objectClass=user)', attributes: ['objectGUID'], explicitBufferAttributes: ['objectGUID'], paged: { pageSize: 500 } })) {
      for (const e of page.searchEntries) if (e.dn.toLowerCase().startsWith(`cn=${prefix}-`)) out.set(e.dn, e.objectGUID as Buffer);
    }
    return out;
  } finally {
    await c.unbind().catch(() => undefined);
  }
}

/**
 * Delete everything under `ou` and the OU itself, over `concurrency` connections. Leaves the
 * shared forest as it was (tombstones aside: a full read does not return them).
 */
export async function removeTree(f: ForestInfo, ou: string, say: (m: string) => void, concurrency = 4): Promise<number> {
  const clients = await Promise.all(Array.from({ length: concurrency }, () => adminClient(f)));
  try {
    const dns = [...(await countUnder(clients[0]!, ou, '(objectClass=*)'))].filter((dn) => dn !== ou.toLowerCase());
    if (!dns.length && !(await countUnder(clients[0]!, ou, '(objectClass=organizationalUnit)')).size) return 0;
    say(`removing ${dns.length} objects under ${ou} ...`);
    // Deepest first, so containers are empty when their turn comes.
    dns.sort((a, b) => b.split(',').length - a.split(',').length);
    let next = 0;
    let done = 0;
    let last = Date.now();
    await Promise.all(
      clients.map(async (c) => {
        for (let i = next++; i < dns.length; i = next++) {
          try {
            await c.del(dns[i]!);
          } catch (err) {
            if (!isNoSuchObject(err)) throw err;
          }
          done++;
          if (Date.now() - last > 5_000) {
            last = Date.now();
            say(`  ${done}/${dns.length} removed`);
          }
        }
      }),
    );
    await clients[0]!.del(ou).catch(() => undefined);
    return dns.length;
  } finally {
    await Promise.all(clients.map((c) => c.unbind().catch(() => undefined)));
  }
}
