import { describe, expect, it } from 'vitest';
import type { AdEntry } from './ad-snapshot.js';
import { compareTenant, computeExpectedTenant, type TenantObject } from './oracle.js';

const base = 'DC=corp,DC=example,DC=test';
let n = 0;
function entry(dn: string, classes: string[], attrs: Record<string, string>, members: string[] = []): AdEntry {
  const guid = Buffer.alloc(16);
  guid.writeUInt32LE(++n);
  return { dn, guid, classes, attrs: Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, [v]])), members };
}

const alice = entry(`CN=Alice,OU=Sales,${base}`, ['top', 'person', 'user'], { cn: 'Alice', displayname: 'Alice A', userprincipalname: 'alice@corp.example.test', useraccountcontrol: '514', title: 'Rep' });
const bob = entry(`CN=Bob,OU=Quarantine,${base}`, ['user'], { cn: 'Bob', userprincipalname: 'bob@corp.example.test' });
const carol = entry(`CN=Carol,OU=Sales,${base}`, ['user'], { cn: 'Carol', userprincipalname: 'carol@legacy.invalid' });
const contact = entry(`CN=Ext,OU=Contacts,${base}`, ['contact'], { cn: 'Ext' });
const sec = entry(`CN=GG-Sales,OU=Groups,${base}`, ['group'], { cn: 'GG-Sales', grouptype: String(-2147483646) }, [alice.dn, bob.dn, contact.dn]);
const dist = entry(`CN=DL-All,OU=Groups,${base}`, ['group'], { cn: 'DL-All', grouptype: '8' }, [alice.dn]);
const admin = entry(`CN=Administrator,CN=Users,${base}`, ['user'], { cn: 'Administrator', userprincipalname: 'administrator@corp.example.test', iscriticalsystemobject: 'TRUE' });

const expected = computeExpectedTenant(
  [{ name: 'corp.example.test', entries: [alice, bob, carol, contact, sec, dist, admin], excludeOus: [`OU=Quarantine,${base}`], excludeGroupCns: [] }],
  { initialDomain: 'contoso.onmicrosoft.com', verifiedDomains: ['corp.example.test'] },
);
const a = (e: AdEntry) => e.guid.toString('base64');

describe('oracle', () => {
  it('computes the expected tenant from AD and the configuration', () => {
    expect([...expected.users.keys()].sort()).toEqual([a(alice), a(carol)].sort());
    expect(expected.users.get(a(alice))!.props).toMatchObject({ accountEnabled: false, jobTitle: 'Rep', displayName: 'Alice A' });
    expect(expected.users.get(a(carol))!.props.userPrincipalName).toBe('carol@contoso.onmicrosoft.com');
    expect([...expected.groups.get(a(sec))!.members]).toEqual([a(alice)]);
    expect(expected.notWritable.map((x) => x.why).sort()).toEqual(['contact', 'distribution group']);
  });

  it('reports zero differences for a matching tenant, and each kind of difference otherwise', () => {
    const users: TenantObject[] = [
      { id: 'u1', state: 'live', props: { onPremisesImmutableId: a(alice), userPrincipalName: 'alice@corp.example.test', displayName: 'Alice A', accountEnabled: false, jobTitle: 'Rep' } },
      { id: 'u2', state: 'live', props: { onPremisesImmutableId: a(carol), userPrincipalName: 'carol@contoso.onmicrosoft.com', displayName: 'Carol', accountEnabled: true } },
    ];
    const groups: TenantObject[] = [{ id: 'g1', state: 'live', props: { anchor: a(sec), displayName: 'GG-Sales', securityEnabled: true, mailEnabled: false }, members: ['u1'] }];
    expect(compareTenant(expected, { users, groups }, 'anchor')).toEqual([]);

    const wrong = structuredClone(users);
    wrong[0]!.props.jobTitle = 'Boss';
    wrong.push({ id: 'u3', state: 'live', props: { onPremisesImmutableId: a(bob), userPrincipalName: 'bob@corp.example.test' } });
    const diffs = compareTenant(expected, { users: wrong.slice(0, 1).concat(wrong.slice(2)), groups: [{ ...groups[0]!, members: [] }] }, 'anchor');
    expect(diffs.map((d) => d.kind).sort()).toEqual(['members', 'missing', 'property', 'unexpected']);
  });
});
