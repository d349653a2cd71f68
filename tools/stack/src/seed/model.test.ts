import { describe, expect, it } from 'vitest';
import { buildDirectory, GROUP_TYPE, LARGE_GROUP_MIN_MEMBERS, UAC, UNVERIFIED_UPN_SUFFIX } from './model.js';

const corp = { forest: 'corp', realm: 'corp.example.test', baseDn: 'DC=corp,DC=example,DC=test' };

describe('seeded directory model', () => {
  it('is deterministic: same options, same entries', () => {
    const a = buildDirectory({ ...corp, users: 500 });
    const b = buildDirectory({ ...corp, users: 500 });
    expect(JSON.stringify(a.entries)).toBe(JSON.stringify(b.entries));
  });

  it('differs by seed and by forest', () => {
    const a = buildDirectory({ ...corp, users: 200 });
    const b = buildDirectory({ ...corp, users: 200, seed: 2 });
    const c = buildDirectory({ ...corp, forest: 'fabrikam', users: 200 });
    expect(JSON.stringify(a.entries)).not.toBe(JSON.stringify(b.entries));
    expect(JSON.stringify(a.entries)).not.toBe(JSON.stringify(c.entries));
  });

  it.each([20, 1000, 10_000])('builds %i users with unique names and addresses', (users) => {
    const m = buildDirectory({ ...corp, users });
    expect(m.users).toHaveLength(users);
    const lower = (xs: string[]) => new Set(xs.map((x) => x.toLowerCase()));
    expect(lower(m.users.map((u) => u.sAMAccountName)).size).toBe(users);
    expect(m.users.every((u) => u.sAMAccountName.length <= 20)).toBe(true);
    expect(lower(m.users.map((u) => u.userPrincipalName)).size).toBe(users);
    const mails = m.users.flatMap((u) => (u.mail ? [u.mail] : []));
    expect(lower(mails).size).toBe(mails.length);
    expect(lower(m.entries.map((e) => e.dn)).size).toBe(m.entries.length);
  });

  it('creates every DN before an entry points at it', () => {
    const m = buildDirectory({ ...corp, users: 2000 });
    const seen = new Set<string>();
    for (const e of m.entries) {
      const refs = [e.attrs.manager, e.attrs.member].flat().filter((x): x is string => typeof x === 'string');
      for (const r of refs) expect(seen.has(r), `${e.dn} -> ${r}`).toBe(true);
      seen.add(e.dn);
    }
  });

  it('has the realistic mix the sync must handle', () => {
    const m = buildDirectory({ ...corp, users: 1000 });
    const names = m.users.map((u) => u.displayName);
    expect(names).toEqual(
      expect.arrayContaining(['Zoë Ångström', '张伟', 'Ολυμπία Παπαδοπούλου', 'Владимир Иванов']),
    );
    expect(m.users.filter((u) => !u.enabled).length).toBeGreaterThan(30);
    expect(m.users.filter((u) => u.userAccountControl & UAC.disabled).length).toBe(
      m.users.filter((u) => !u.enabled).length,
    );
    expect(m.users.filter((u) => u.category === 'service').length).toBe(20);
    expect(
      m.users.filter((u) => u.category === 'quarantine').every((u) => u.dn.endsWith(m.outOfScopeOu)),
    ).toBe(true);
    const unverified = m.users.filter((u) => u.userPrincipalName.endsWith(`@${UNVERIFIED_UPN_SUFFIX}`));
    expect(unverified.length).toBeGreaterThan(5);
    expect(unverified.length).toBeLessThan(100);
    expect(m.users.filter((u) => u.managerDn).length).toBeGreaterThan(800);
    expect(m.users.filter((u) => u.mail).every((u) => u.proxyAddresses[0] === `SMTP:${u.mail}`)).toBe(true);
    expect(m.users.some((u) => u.proxyAddresses.length > 2)).toBe(true);
    const types = new Set(m.groups.map((g) => g.groupType));
    for (const t of [
      GROUP_TYPE.globalSecurity,
      GROUP_TYPE.domainLocalSecurity,
      GROUP_TYPE.universalSecurity,
      GROUP_TYPE.universalDistribution,
    ]) {
      expect(types.has(t)).toBe(true);
    }
    const byDn = new Map(m.groups.map((g) => [g.dn, g]));
    const nested = m.groups.find((g) => g.name === 'GG-Nested-L1')!;
    const l2 = byDn.get(nested.members[0]!)!;
    expect(l2.name).toBe('GG-Nested-L2');
    expect(byDn.get(l2.members[0]!)!.name).toBe('GG-Nested-L3');
    expect(m.contacts.length).toBeGreaterThan(0);
  });

  it.each([20, 1000, 5000, 50_000])('keeps the large group above %i-user range limits', (users) => {
    const m = buildDirectory({ ...corp, users });
    expect(m.largeGroup.members.length).toBeGreaterThanOrEqual(LARGE_GROUP_MIN_MEMBERS);
    expect(m.largeGroup.members.length).toBe(users + m.contacts.length);
  });

  it('escapes RDN values', () => {
    const m = buildDirectory({ ...corp, users: 3000 });
    expect(m.users.some((u) => u.cn.includes("'"))).toBe(true);
    for (const e of m.entries) expect(e.dn).not.toMatch(/(^|[^\\]),\s*,/);
  });
});
