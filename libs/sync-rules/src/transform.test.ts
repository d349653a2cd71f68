import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sourceAnchorOf, guidFromString, type AdObjectEvent } from '@canopy/contracts';
import { ConfigError } from '@canopy/errors';
import { compileRules } from './config.js';
import { rulesFromConfig } from './rules-from-config.js';
import { adEvent, dnRef } from './fixtures.js';
import { transform, type TransformOutcome } from './transform.js';

const ctx = { configVersion: 7, now: new Date('2026-11-23T12:00:00Z') };
const OU = 'OU=Staff,DC=corp,DC=example,DC=test';
const SID = Buffer.from('010500000000000515000000a065cf7e784b9b5fe77c8770e9030000', 'hex');
const CONSISTENCY = guidFromString('aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee');

const rules = compileRules({
  forest: 'corp.example.test',
  upnSuffix: { initialDomain: 'contoso.onmicrosoft.com', verifiedDomains: ['corp.example.test', 'contoso.com'] },
});

function op(outcome: TransformOutcome) {
  if (outcome.kind !== 'op') throw new Error(`expected an op, got ${JSON.stringify(outcome)}`);
  return outcome;
}

const zoe = () =>
  adEvent({
    dn: `CN=Zoë Ångström,${OU}`,
    attributes: {
      objectClass: ['top', 'person', 'organizationalPerson', 'user'],
      cn: 'Zoë Ångström',
      givenName: 'Zoë',
      sn: 'Ångström',
      displayName: 'Zoë Ångström',
      sAMAccountName: 'zoë.å',
      userPrincipalName: 'zoe.angstrom@corp.example.test',
      userAccountControl: '512',
      title: 'Ingénieure',
      department: 'R&D',
      company: 'Contoso',
      employeeID: '004711',
      telephoneNumber: '+33 1 23 45 67 89',
      mobile: '+33 6 00 00 00 00',
      mail: 'zoe.angstrom@contoso.com',
      l: 'Paris',
      co: 'France',
      proxyAddresses: ['SMTP:zoe.angstrom@contoso.com', 'smtp:zoe@contoso.com'],
    },
    binary: { objectSid: SID, 'ms-DS-ConsistencyGuid': CONSISTENCY },
  });

describe('default user mappings', () => {
  it('maps a realistic user like Cloud Sync does', () => {
    const out = op(transform(zoe(), rules, ctx));
    expect(out.op).toMatchObject({
      action: 'UPSERT',
      targetType: 'USER',
      forest: 'corp.example.test',
      sourceAnchor: CONSISTENCY.toString('base64'),
      configVersion: 7,
      sourceUsn: 1000,
      reason: null,
      members: null,
      createOnly: [],
      uniqueCandidates: {},
      emittedAt: ctx.now,
    });
    expect(out.op.properties).toEqual({
      onPremisesImmutableId: CONSISTENCY.toString('base64'),
      userPrincipalName: 'zoe.angstrom@corp.example.test',
      displayName: 'Zoë Ångström',
      mailNickname: 'zoe.a',
      accountEnabled: true,
      givenName: 'Zoë',
      surname: 'Ångström',
      jobTitle: 'Ingénieure',
      department: 'R&D',
      companyName: 'Contoso',
      employeeId: '004711',
      employeeType: null,
      mail: 'zoe.angstrom@contoso.com',
      businessPhones: ['+33 1 23 45 67 89'],
      mobilePhone: '+33 6 00 00 00 00',
      faxNumber: null,
      officeLocation: null,
      streetAddress: null,
      city: 'Paris',
      state: null,
      postalCode: null,
      country: 'France',
      preferredLanguage: null,
      proxyAddresses: ['SMTP:zoe.angstrom@contoso.com', 'smtp:zoe@contoso.com'],
      onPremisesSamAccountName: 'zoë.å',
      onPremisesSecurityIdentifier: 'S-1-5-21-2127521184-1604012920-1887927527-1001',
      onPremisesDomainName: 'corp.example.test',
      onPremisesDistinguishedName: `CN=Zoë Ångström,${OU}`,
      onPremisesUserPrincipalName: 'zoe.angstrom@corp.example.test',
    });
    expect(out.mapped.find((m) => m.target === 'accountEnabled')).toMatchObject({ type: 'expression', fromDefaults: true });
  });

  it('uses objectGUID for the anchor when ms-DS-ConsistencyGuid is absent', () => {
    const e = zoe();
    delete e.binaryAttributes['ms-ds-consistencyguid'];
    const out = op(transform(e, rules, ctx));
    expect(out.op.sourceAnchor).toBe(sourceAnchorOf(e.objectGuid));
    expect(out.op.properties.onPremisesImmutableId).toBe(e.objectGuid.toString('base64'));
  });

  it('maps a disabled account (userAccountControl bit 2) to accountEnabled false', () => {
    const e = zoe();
    e.attributes.useraccountcontrol = ['514'];
    expect(op(transform(e, rules, ctx)).op.properties.accountEnabled).toBe(false);
    e.attributes.useraccountcontrol = ['66050']; // DONT_EXPIRE_PASSWORD | NORMAL_ACCOUNT | ACCOUNTDISABLE
    expect(op(transform(e, rules, ctx)).op.properties.accountEnabled).toBe(false);
    e.attributes.useraccountcontrol = ['66048'];
    expect(op(transform(e, rules, ctx)).op.properties.accountEnabled).toBe(true);
    delete e.attributes.useraccountcontrol; // AD LDS / inetOrgPerson: Cloud Sync falls back to accountDisabled
    e.attributes.accountdisabled = ['TRUE'];
    expect(op(transform(e, rules, ctx)).op.properties.accountEnabled).toBe(false);
    delete e.attributes.accountdisabled;
    expect(op(transform(e, rules, ctx)).op.properties.accountEnabled).toBe(true);
  });

  it('keeps non-Latin names and builds a valid mailNickname from them', () => {
    const e = adEvent({
      dn: `CN=张伟,${OU}`,
      attributes: { cn: '张伟', displayName: '张伟', givenName: '伟', sn: '张', sAMAccountName: 'zhang.wei', userPrincipalName: '张伟@corp.example.test', userAccountControl: '512' },
    });
    const p = op(transform(e, rules, ctx)).op.properties;
    expect(p).toMatchObject({ displayName: '张伟', givenName: '伟', surname: '张', mailNickname: 'zhang.wei', userPrincipalName: '张伟@corp.example.test' });
  });

  it('falls back to the initial domain for an unverified UPN suffix, and says so', () => {
    const e = zoe();
    e.attributes.userprincipalname = ['zoe@corp.local'];
    const out = op(transform(e, rules, ctx));
    expect(out.op.properties.userPrincipalName).toBe('zoe@contoso.onmicrosoft.com');
    expect(out.op.properties.onPremisesUserPrincipalName).toBe('zoe@corp.local');
    expect(out.mapped.find((m) => m.target === 'userPrincipalName')?.note).toBe(
      'UPN suffix "corp.local" is not a verified domain of the tenant; using contoso.onmicrosoft.com',
    );
    const off = compileRules({ forest: 'x', upnSuffix: { fallbackToInitialDomain: false, initialDomain: 'contoso.onmicrosoft.com' } });
    expect(op(transform(e, off, ctx)).op.properties.userPrincipalName).toBe('zoe@corp.local');
    expect(op(transform(e, compileRules({ forest: 'x' }), ctx)).op.properties.userPrincipalName).toBe('zoe@corp.local');
  });

  it('builds a UPN from sAMAccountName and the domain when userPrincipalName is absent', () => {
    const e = zoe();
    delete e.attributes.userprincipalname;
    e.attributes.samaccountname = ['zoe'];
    expect(op(transform(e, rules, ctx)).op.properties.userPrincipalName).toBe('zoe@corp.example.test');
  });

  it('fails with a clear message when Graph-required values are empty', () => {
    const e = adEvent({ dn: `CN=x,${OU}`, attributes: { userAccountControl: '512' } });
    expect(transform(e, compileRules({ forest: 'x' }), ctx)).toMatchObject({
      kind: 'failed',
      error: { attribute: 'userPrincipalName', type: 'Mapping.RequiredEmpty' },
    });
  });
});

describe('custom mappings', () => {
  it('applies direct, constant and expression mappings, create-only flags and defaults', () => {
    const r = compileRules({
      forest: 'corp.example.test',
      mappings: {
        user: {
          remove: ['employeeType'],
          mappings: [
            { type: 'expression', target: 'displayName', expression: 'Join(", ", [sn], [givenName])' },
            { type: 'constant', target: 'usageLocation', value: 'FR', apply: 'create' },
            { type: 'direct', target: 'employeeType', source: 'employeeType', defaultValue: 'Employee' },
            { type: 'direct', target: 'onPremisesExtensionAttributes.extensionAttribute1', source: 'extensionAttribute1' },
            { type: 'expression', target: 'userType', expression: 'IIF(InStr([userPrincipalName], "@partners") > 0,"Guest","Member")' },
          ],
        },
      },
    });
    const out = op(transform(zoe(), r, ctx));
    expect(out.op.properties).toMatchObject({
      displayName: 'Ångström, Zoë',
      usageLocation: 'FR',
      employeeType: 'Employee',
      'onPremisesExtensionAttributes.extensionAttribute1': null,
      userType: 'Member',
    });
    expect(out.op.createOnly).toEqual(['usageLocation']);
  });

  it('leaves a property out of the op when IgnoreFlowIfNullOrEmpty says so, and keeps it otherwise', () => {
    const r = compileRules({
      forest: 'x',
      mappings: { user: { mappings: [{ type: 'expression', target: 'department', expression: 'IgnoreFlowIfNullOrEmpty([department])' }] } },
    });
    const e = zoe();
    expect(op(transform(e, r, ctx)).op.properties.department).toBe('R&D');
    delete e.attributes.department;
    const out = op(transform(e, r, ctx));
    expect('department' in out.op.properties).toBe(false);
    expect(out.mapped.find((m) => m.target === 'department')?.note).toBe('not flowed (IgnoreFlowIfNullOrEmpty)');
  });

  it('gives Now() the context time, so transform stays pure', () => {
    const r = compileRules({ forest: 'x', mappings: { user: { mappings: [{ type: 'expression', target: 'employeeHireDate', expression: 'DateAdd("d", 1, Now())' }] } } });
    expect(op(transform(zoe(), r, ctx)).op.properties.employeeHireDate).toBe('2026-11-24T12:00:00.000Z');
  });

  it('puts SelectUniqueValue candidates in uniqueCandidates for the writer', () => {
    const r = compileRules({
      forest: 'corp.example.test',
      upnSuffix: { initialDomain: 'contoso.onmicrosoft.com', verifiedDomains: ['contoso.com'] },
      mappings: {
        user: {
          mappings: [
            {
              type: 'expression',
              target: 'userPrincipalName',
              apply: 'create',
              expression:
                'SelectUniqueValue(Join("@", NormalizeDiacritics(StripSpaces(Join(".", [givenName], [sn]))), "contoso.com"), Join("@", NormalizeDiacritics(StripSpaces(Join(".", Mid([givenName], 1, 1), [sn]))), "contoso.com"))',
            },
          ],
        },
      },
    });
    const out = op(transform(zoe(), r, ctx));
    expect(out.op.uniqueCandidates).toEqual({ userPrincipalName: ['Zoe.Angstrom@contoso.com', 'Z.Angstrom@contoso.com'] });
    expect(out.op.properties.userPrincipalName).toBe('Zoe.Angstrom@contoso.com');
    expect(out.op.createOnly).toContain('userPrincipalName');
  });

  it('reports a failing expression per object with attribute, expression and message', () => {
    const r = compileRules({
      forest: 'x',
      mappings: { user: { mappings: [{ type: 'expression', target: 'jobTitle', expression: 'IIF(IsPresent([title]), [title], Error("title is required"))' }] } },
    });
    const e = zoe();
    delete e.attributes.title;
    expect(transform(e, r, ctx)).toEqual({
      kind: 'failed',
      error: { attribute: 'jobTitle', expression: 'IIF(IsPresent([title]), [title], Error("title is required"))', message: 'title is required', type: 'Expression.Error' },
      scoping: { inScope: true, rule: 'in-scope', detail: 'no rule excludes it' },
    });
    const bad = compileRules({ forest: 'x', mappings: { user: { mappings: [{ type: 'expression', target: 'accountEnabled', expression: '"maybe"' }] } } });
    expect(transform(zoe(), bad, ctx)).toMatchObject({ kind: 'failed', error: { attribute: 'accountEnabled', message: 'cannot convert "maybe" to Edm.Boolean' } });
  });

  it('rejects unknown, read-only and complex targets and bad expressions when configuration loads', () => {
    const load = (mappings: unknown[]) => () => compileRules({ forest: 'x', mappings: { user: { mappings } } });
    expect(load([{ type: 'direct', target: 'favouriteColour', source: 'x' }])).toThrowError(/mappings\.user\.mappings\.0\.target: "favouriteColour" is not a property of microsoft\.graph\.user/);
    expect(load([{ type: 'direct', target: 'createdDateTime', source: 'whenCreated' }])).toThrowError(/"createdDateTime" is read-only in microsoft\.graph\.user/);
    expect(load([{ type: 'direct', target: 'employeeOrgData', source: 'x' }])).toThrowError(/complex property/);
    expect(load([{ type: 'expression', target: 'jobTitle', expression: 'Join(" ", [a], [b]' }])).toThrowError(/mappings\.user\.mappings\.0\.expression: expected '\)' at column 19/);
    expect(load([{ type: 'expression', target: 'mailNickname', expression: 'SelectUniqueValue("a", "b")' }])).toThrowError(/apply: create/);
    expect(load([{ type: 'direct', target: 'jobTitle', source: 'title' }, { type: 'direct', target: 'JobTitle', source: 'x' }])).toThrowError(/mapped twice/);
    expect(load([{ type: 'sideways', target: 'jobTitle' }])).toThrowError(ConfigError);
    expect(() => compileRules({ forest: 'x', mappings: { group: { mappings: [{ type: 'direct', target: 'mail', source: 'mail' }] } } })).toThrowError(
      /"mail" is read-only in microsoft\.graph\.group/,
    );
    expect(() => compileRules({ forest: 'x', mappings: { user: { remove: ['nope'] } } })).toThrowError(/"nope" is not a default mapping target/);
    expect(() => compileRules({ forest: 'x', upnSuffix: { initialDomain: 'contoso.com' } })).toThrowError(/upnSuffix\.initialDomain: must be <tenant>\.onmicrosoft\.com/);
  });
});

describe('groups', () => {
  const member = (dn: string, guid: string) => dnRef(dn, guid);
  const group = (attrs: Record<string, string | string[]>, members = [member(`CN=Zoë Ångström,${OU}`, '0b0a0908-0d0c-0f0e-1011-121314151617')]) =>
    adEvent({
      dn: 'CN=Paris Staff,OU=Groups,DC=corp,DC=example,DC=test',
      objectClass: 'GROUP',
      guid: '12345678-1234-1234-1234-123456789abc',
      attributes: { cn: 'Paris Staff', sAMAccountName: 'Paris Staff', groupType: '-2147483646', description: 'Everyone in Paris', objectSid: [], ...attrs },
      binary: { objectSid: SID },
      members,
    });

  it('maps a global security group with its in-scope members as anchors, nested groups included', () => {
    const r = compileRules({ forest: 'corp.example.test', scoping: { ous: { exclude: ['OU=Quarantine,DC=corp,DC=example,DC=test'] } } });
    const g = group({}, [
      member(`CN=Zoë Ångström,${OU}`, '0b0a0908-0d0c-0f0e-1011-121314151617'),
      member('CN=Nested Team,OU=Groups,DC=corp,DC=example,DC=test', '22222222-0000-0000-0000-000000000000'),
      member('CN=Bad,OU=Quarantine,DC=corp,DC=example,DC=test', '33333333-0000-0000-0000-000000000000'),
      member('CN=S-1-5-21-1-2-3-500,CN=ForeignSecurityPrincipals,DC=corp,DC=example,DC=test', '44444444-0000-0000-0000-000000000000'),
    ]);
    const out = op(transform(g, r, ctx));
    expect(out.op).toMatchObject({ targetType: 'GROUP', action: 'UPSERT', sourceAnchor: guidFromString('12345678-1234-1234-1234-123456789abc').toString('base64') });
    expect(out.op.properties).toEqual({
      displayName: 'Paris Staff',
      description: 'Everyone in Paris',
      mailNickname: 'ParisStaff',
      securityEnabled: true,
      mailEnabled: false,
      onPremisesSamAccountName: 'Paris Staff',
      onPremisesSecurityIdentifier: 'S-1-5-21-2127521184-1604012920-1887927527-1001',
      onPremisesDomainName: 'corp.example.test',
    });
    expect(out.op.members).toEqual([
      guidFromString('0b0a0908-0d0c-0f0e-1011-121314151617').toString('base64'),
      guidFromString('22222222-0000-0000-0000-000000000000').toString('base64'),
    ]);
    expect(out.members).toEqual({
      kept: 2,
      excluded: [
        { dn: 'CN=Bad,OU=Quarantine,DC=corp,DC=example,DC=test', rule: 'ou-exclude', detail: 'OU=Quarantine,DC=corp,DC=example,DC=test excluded' },
        { dn: 'CN=S-1-5-21-1-2-3-500,CN=ForeignSecurityPrincipals,DC=corp,DC=example,DC=test', rule: 'object-class', detail: 'foreign security principal' },
      ],
    });
  });

  it('keeps members null when the snapshot did not read them', () => {
    const g = group({});
    g.members = null;
    expect(op(transform(g, rules, ctx)).op.members).toBeNull();
  });

  it('skips distribution and mail-enabled security groups with the reason', () => {
    expect(transform(group({ groupType: '8' }), rules, ctx)).toMatchObject({
      kind: 'skipped',
      reason: 'Graph cannot create distribution groups; mail-enabled groups are managed in Exchange Online',
    });
    expect(transform(group({ groupType: '-2147483640', mail: 'staff@contoso.com' }), rules, ctx)).toMatchObject({
      kind: 'skipped',
      reason: 'Graph cannot create mail-enabled security groups; mail-enabled groups are managed in Exchange Online',
    });
    expect(op(transform(group({ groupType: '-2147483644' }), rules, ctx)).op.action).toBe('UPSERT'); // domain local security
  });

  it('skips contacts, which Graph v1.0 cannot create', () => {
    const c = adEvent({ dn: `CN=Ext,${OU}`, objectClass: 'CONTACT', attributes: { mail: 'ext@fabrikam.com' } });
    expect(transform(c, rules, ctx)).toMatchObject({ kind: 'skipped', reason: expect.stringContaining('cannot create or update contacts') });
  });
});

describe('transform never throws', () => {
  const classes: AdObjectEvent['objectClass'][] = ['USER', 'INET_ORG_PERSON', 'GROUP', 'CONTACT', 'OTHER'];
  const attrName = fc.oneof(
    fc.constantFrom('userPrincipalName', 'sAMAccountName', 'displayName', 'givenName', 'sn', 'mail', 'userAccountControl', 'groupType', 'proxyAddresses', 'isCriticalSystemObject', 'objectClass', 'telephoneNumber', 'constructor', '__proto__'),
    fc.string({ minLength: 1, maxLength: 12 }),
  );
  const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constantFrom('', 'TRUE', '-2147483646', '514', 'a@b.c', '8'));
  const dn = fc.oneof(
    fc.constantFrom(`CN=A,${OU}`, 'CN=B\\, C,OU=Quarantine,DC=corp,DC=example,DC=test', '', ',,,', 'CN=X', '=\\'),
    fc.string({ maxLength: 60 }),
  );
  const guid = fc.uint8Array({ minLength: 0, maxLength: 20 }).map((a) => Buffer.from(a));
  const event = fc.record({
    kind: fc.constantFrom('SNAPSHOT', 'TOMBSTONE'),
    objectClass: fc.constantFrom(...classes),
    dn,
    domain: fc.oneof(fc.constant('corp.example.test'), fc.string({ maxLength: 10 })),
    objectGuid: guid,
    attributes: fc.dictionary(attrName, fc.array(text, { maxLength: 4 }), { maxKeys: 8 }),
    binaryAttributes: fc.dictionary(fc.constantFrom('objectsid', 'ms-ds-consistencyguid', 'objectguid', 'thumbnailphoto'), fc.array(guid, { maxLength: 2 })),
    members: fc.option(fc.array(fc.record({ guid, dn }), { maxLength: 5 })),
    memberOf: fc.array(fc.record({ guid, dn }), { maxLength: 3 }),
    usnChanged: fc.integer(),
  });
  const ruleSets = [
    rules,
    compileRules({
      forest: 'corp.example.test',
      scoping: {
        ous: { include: [OU], exclude: ['OU=Quarantine,DC=corp,DC=example,DC=test'] },
        groups: ['CN=G,DC=corp,DC=example,DC=test', '11111111-2222-3333-4444-555555555555'],
        filters: [{ clauses: [{ attribute: 'department', operator: 'REGEX MATCH', value: '^S' }, { attribute: 'employeeID', operator: 'Greater_Than', value: 5 }] }],
      },
      mappings: {
        user: {
          mappings: [
            { type: 'expression', target: 'jobTitle', expression: 'IIF(IsPresent([title]), Word([title], 2, " "), Error("no title"))' },
            { type: 'expression', target: 'employeeHireDate', expression: 'FormatDateTime([whenCreated], "yyyyMMddHHmmss.fZ", "yyyy-MM-ddTHH:mm:ssZ")' },
            { type: 'expression', target: 'accountEnabled', expression: 'Not(CBool(BitAnd([userAccountControl], 2)))' },
          ],
        },
      },
    }),
  ];
  it('returns an outcome for arbitrary snapshots and tombstones', () => {
    fc.assert(
      fc.property(event, fc.constantFrom(0, 1), (raw, which) => {
        const e: AdObjectEvent = {
          ...raw,
          forest: 'corp.example.test',
          readAt: new Date(0),
          readerId: 'r',
          lastKnownParent: null,
          origin: 'FULL',
          cycleId: null,
        } as AdObjectEvent;
        const out = transform(e, ruleSets[which]!, ctx);
        expect(['op', 'skipped', 'failed']).toContain(out.kind);
        if (out.kind === 'op') expect(['UPSERT', 'DELETE']).toContain(out.op.action);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('rulesFromConfig (FOREST document rules + GLOBAL tenant)', () => {
  const tenant = { id: 't', initialDomain: 'contoso.onmicrosoft.com', verifiedDomains: ['contoso.com'] };
  it('turns the UPN suffix rule on with the tenant domains', () => {
    const r = rulesFromConfig('corp.example.test', {}, tenant);
    expect(r.forest).toBe('corp.example.test');
    expect(op(transform(zoe(), r, ctx)).op.properties.userPrincipalName).toBe('zoe.angstrom@contoso.onmicrosoft.com');
    const withOwn = rulesFromConfig('corp.example.test', { upnSuffix: { verifiedDomains: ['corp.example.test'] } }, tenant);
    expect(op(transform(zoe(), withOwn, ctx)).op.properties.userPrincipalName).toBe('zoe.angstrom@corp.example.test');
    const off = rulesFromConfig('corp.example.test', { upnSuffix: { fallbackToInitialDomain: false } }, tenant);
    expect(op(transform(zoe(), off, ctx)).op.properties.userPrincipalName).toBe('zoe.angstrom@corp.example.test');
    expect(rulesFromConfig('x', undefined).upn.fallback).toBe(false);
  });
  it('refuses a document for another forest or a non-object, naming the problem', () => {
    expect(() => rulesFromConfig('a', { forest: 'b' })).toThrowError(/forest: "b" does not match/);
    expect(() => rulesFromConfig('a', [])).toThrowError(ConfigError);
    expect(() => rulesFromConfig('a', { scoping: { ous: { include: ['nonsense'] } } })).toThrowError(/scoping\.ous\.include\.0: "nonsense" is not a distinguished name/);
  });
});

describe('default mappings keep values within Graph limits', () => {
  it('trims and cuts long values as Entra Connect does, never identifiers', () => {
    const e = zoe();
    e.attributes.department = [`  ${'D'.repeat(100)}  `];
    e.attributes.givenname = [' Zoë '];
    e.attributes.samaccountname = ['x'.repeat(20)];
    e.attributes.mailnickname = ['n'.repeat(80)];
    e.attributes.employeeid = ['12345678901234567890'];
    const p = op(transform(e, rules, ctx)).op.properties;
    expect(p.department).toBe('D'.repeat(64));
    expect(p.givenName).toBe('Zoë');
    expect(p.mailNickname).toBe('n'.repeat(64));
    expect(p.employeeId).toBe('12345678901234567890');
  });
});
