import { guidToString } from '@canopy/contracts';
import { describe, expect, it } from 'vitest';
import { buildEvent, type SnapshotContext } from './snapshot-builder.js';

const ctx: SnapshotContext = {
  forest: 'corp.example.test',
  domain: 'corp.example.test',
  readerId: 'r1',
  readAt: new Date('2026-11-23T12:00:00Z'),
  origin: 'DELTA',
  cycleId: 'c1',
};
const guid = Buffer.from('901321bfafc6e8439034159d9dfc854e', 'hex');
const memberGuid = 'cfdae34b0c8153439489edc558da3296';

describe('snapshot builder', () => {
  it('builds a user snapshot: lower-cased names, arrays, binary attributes as bytes, memberOf with GUIDs', () => {
    const ev = buildEvent(
      {
        dn: '<GUID=901321bfafc6e8439034159d9dfc854e>;<SID=0105>;CN=Zoë,OU=Sales,DC=corp,DC=example,DC=test',
        objectClass: ['top', 'person', 'organizationalPerson', 'user'],
        objectGUID: guid,
        objectSid: Buffer.from('0105000000000005', 'hex'),
        displayName: 'Zoë Ångström',
        proxyAddresses: ['SMTP:zoe@corp.example.test', 'smtp:z@corp.example.test'],
        manager: '<GUID=cfdae34b0c8153439489edc558da3296>;<SID=01>;CN=Boss,DC=corp,DC=example,DC=test',
        memberOf: [`<GUID=${memberGuid}>;<SID=01>;CN=G1,DC=corp,DC=example,DC=test`],
        uSNChanged: '4242',
        'member;range=0-0': 'ignored',
        unicodePwd: 'never',
      },
      ctx,
    )!;
    expect(ev.objectClass).toBe('USER');
    expect(ev.kind).toBe('SNAPSHOT');
    expect(ev.dn).toBe('CN=Zoë,OU=Sales,DC=corp,DC=example,DC=test');
    expect(guidToString(ev.objectGuid)).toBe(guidToString(guid));
    expect(ev.attributes.displayname).toEqual(['Zoë Ångström']);
    expect(ev.attributes.proxyaddresses).toHaveLength(2);
    expect(ev.attributes.manager).toEqual(['CN=Boss,DC=corp,DC=example,DC=test']);
    expect(ev.binaryAttributes.objectsid![0]!.toString('hex')).toBe('0105000000000005');
    expect(ev.binaryAttributes.objectguid![0]).toEqual(guid);
    expect(ev.memberOf).toEqual([{ guid: Buffer.from(memberGuid, 'hex'), dn: 'CN=G1,DC=corp,DC=example,DC=test' }]);
    expect(ev.members).toBeNull();
    expect(ev.usnChanged).toBe(4242);
    expect(Object.keys(ev.attributes)).not.toContain('unicodepwd');
    expect(Object.keys(ev.attributes).some((k) => k.includes('range'))).toBe(false);
  });

  it('puts any attribute holding a non-UTF-8 value into binaryAttributes, and always-binary ones even when they decode', () => {
    const ev = buildEvent(
      {
        dn: 'CN=x,DC=x',
        objectClass: ['user', 'inetOrgPerson'],
        objectGUID: guid,
        description: ['fine', Buffer.from([0xff, 0xfe, 0x00])],
        'mS-DS-ConsistencyGuid': 'abcdefghijklmnop',
        thumbnailPhoto: Buffer.from([0x89, 0x50, 0x4e, 0x47]),
        title: Buffer.from('valid utf8 ü', 'utf8'),
      },
      ctx,
    )!;
    expect(ev.objectClass).toBe('INET_ORG_PERSON');
    expect(ev.attributes.description).toBeUndefined();
    expect(ev.binaryAttributes.description).toEqual([Buffer.from('fine'), Buffer.from([0xff, 0xfe, 0x00])]);
    expect(ev.binaryAttributes['ms-ds-consistencyguid']).toEqual([Buffer.from('abcdefghijklmnop')]);
    expect(ev.binaryAttributes.thumbnailphoto![0]!.toString('hex')).toBe('89504e47');
    expect(ev.attributes.title).toEqual(['valid utf8 ü']);
  });

  it('builds groups with complete members and tombstones with lastKnownParent', () => {
    const group = buildEvent(
      {
        dn: 'CN=G,DC=x',
        objectClass: ['top', 'group'],
        objectGUID: guid,
        member: [`<GUID=${memberGuid}>;<SID=01>;CN=A,DC=x`, `<GUID=${'00'.repeat(16)}>;CN=B,DC=x`],
      },
      ctx,
    )!;
    expect(group.objectClass).toBe('GROUP');
    expect(group.members!.map((m) => m.dn)).toEqual(['CN=A,DC=x', 'CN=B,DC=x']);
    const empty = buildEvent({ dn: 'CN=G2,DC=x', objectClass: ['group'], objectGUID: guid }, ctx)!;
    expect(empty.members).toEqual([]);

    const tomb = buildEvent(
      {
        dn: '<GUID=901321bfafc6e8439034159d9dfc854e>;CN=d1\\0ADEL:665e1b3d-19a6-4117-8f71-67a93a69393e,CN=Deleted Objects,DC=x',
        objectClass: ['top', 'person', 'organizationalPerson', 'user'],
        objectGUID: guid,
        isDeleted: 'TRUE',
        lastKnownParent: '<GUID=707a452d-1823-42a6-94bc-4954943bf636>;OU=y,DC=x',
      },
      ctx,
    )!;
    expect(tomb.kind).toBe('TOMBSTONE');
    expect(tomb.lastKnownParent).toBe('OU=y,DC=x');
  });

  it('skips computers, other classes and entries without a GUID', () => {
    expect(buildEvent({ dn: 'CN=pc,DC=x', objectClass: ['user', 'computer'], objectGUID: guid }, ctx)).toBeNull();
    expect(buildEvent({ dn: 'OU=o,DC=x', objectClass: ['organizationalUnit'], objectGUID: guid }, ctx)).toBeNull();
    expect(buildEvent({ dn: 'CN=u,DC=x', objectClass: ['user'] }, ctx)).toBeNull();
    expect(buildEvent({ dn: 'CN=c,DC=x', objectClass: ['contact'], objectGUID: guid }, ctx)!.objectClass).toBe('CONTACT');
  });

  it('drops configured attributes', () => {
    const ev = buildEvent({ dn: 'CN=u,DC=x', objectClass: ['user'], objectGUID: guid, lastLogon: '1', title: 't' }, { ...ctx, exclude: new Set(['lastlogon']) })!;
    expect(ev.attributes).toEqual({ objectclass: ['user'], title: ['t'] });
  });
});
