import { describe, expect, it } from 'vitest';
import { ConfigError } from '@canopy/errors';
import { compileRules, type ForestRulesInput } from './config.js';
import { adEvent, dnRef } from './fixtures.js';
import { compileClause, evaluateClause, SCOPING_OPERATORS, canonicalOperator, type ScopingOperator } from './scoping.js';
import { transform } from './transform.js';

const ctx = { configVersion: 3, now: new Date('2026-11-23T12:00:00Z') };
const BASE = 'OU=Staff,DC=corp,DC=example,DC=test';

function rules(scoping: ForestRulesInput['scoping']) {
  return compileRules({ forest: 'corp.example.test', scoping });
}

function user(attrs: Record<string, string | string[]> = {}, dn = `CN=Jane Doe,${BASE}`, extra: Partial<Parameters<typeof adEvent>[0]> = {}) {
  return adEvent({ dn, attributes: { userPrincipalName: 'jane@corp.example.test', sAMAccountName: 'jane', userAccountControl: '512', ...attrs }, ...extra });
}

function scopeOf(event: ReturnType<typeof user>, r: ReturnType<typeof rules>) {
  const out = transform(event, r, ctx);
  if (out.kind === 'failed') throw new Error(out.error.message);
  return out.scoping;
}

describe('scoping filter operators (clauses AND-ed, filters OR-ed; an absent attribute is an empty value, as Cloud Sync)', () => {
  const clause = (op: ScopingOperator, value: string | null, attrValue: string | string[] | null) => {
    const c = compileClause('department', op, value);
    return evaluateClause(c, (n) => (n === 'department' ? attrValue : null));
  };
  const cases: Array<[ScopingOperator, string | null, string | string[] | null, boolean]> = [
    ['EQUALS', 'Sales', 'Sales', true],
    ['EQUALS', 'Sales', 'sales', false], // case sensitive
    ['EQUALS', 'Sales', null, false],
    ['NOT EQUALS', 'Sales', 'Marketing', true],
    ['NOT EQUALS', 'Sales', 'Sales', false],
    ['NOT EQUALS', 'Sales', null, true], // absent = "" (Cloud Sync's default scope relies on it)
    ['IS TRUE', null, 'TRUE', true],
    ['IS TRUE', null, 'FALSE', false],
    ['IS FALSE', null, 'FALSE', true],
    ['IS FALSE', null, 'TRUE', false],
    ['IS FALSE', null, null, true], // Cloud Sync's default scope: isCriticalSystemObject IS FALSE
    ['IS TRUE', null, null, false],
    ['IS NULL', null, null, true],
    ['IS NULL', null, 'x', false],
    ['IS NOT NULL', null, 'x', true],
    ['IS NOT NULL', null, null, false],
    ['REGEX MATCH', '([1-9][0-9])', '42', true], // Microsoft's example: any number between 10 and 99
    ['REGEX MATCH', '([1-9][0-9])', '7', false],
    ['REGEX MATCH', '^sales$', 'Sales', false], // case sensitive
    ['NOT REGEX MATCH', '.*@domain\\.com', 'a@other.com', true],
    ['NOT REGEX MATCH', '.*@domain\\.com', 'a@domain.com', false],
    ['NOT REGEX MATCH', '^CAS_([^{]*){', null, true], // Cloud Sync's default scope: mailNickname NOT REGEX MATCH
    ['REGEX MATCH', '([1-9][0-9])', null, false],
    ['Greater_Than', '1000000', '1500000', true], // numeric, not text: "9" < "10" as text
    ['Greater_Than', '10', '9', false],
    ['Greater_Than', '10', 'abc', false],
    ['Greater_Than_OR_EQUALS', '10', '10', true],
    ['Greater_Than_OR_EQUALS', '10', '9', false],
    ['Less_Than', '2000000', '1999999', true],
    ['Less_Than', '10', '10', false],
    ['Less_Than_OR_EQUALS', '10', '10', true],
    ['Less_Than_OR_EQUALS', '10', '11', false],
    ['Includes', 'ale', 'Sales', true],
    ['Includes', 'ALE', 'Sales', false], // case sensitive (String.Contains)
    ['Includes', 'ale', null, false],
    ['NOT INCLUDES', 'xyz', 'Sales', true],
    ['NOT INCLUDES', 'ale', 'Sales', false],
    ['ENDS_WITH', 'les', 'Sales', true],
    ['ENDS_WITH', 'Sal', 'Sales', false],
    ['&', '2', '514', true], // bit test on integers (userAccountControl & ACCOUNTDISABLE)
    ['&', '2', '512', false],
    ['&', 'Sales,Marketing', 'Sales', true], // text: the attribute value occurs in the input string
    ['!&', '2', '512', true],
    ['!&', '2', '514', false],
    ['&', '2', null, false],
    ['!&', '2', null, true],
    ['Greater_Than', '0', null, false],
    ['EQUALS', 'Sales', ['Marketing', 'Sales'], true], // multi-valued: some value matches
    ['NOT EQUALS', 'Sales', ['Marketing', 'Sales'], false], // multi-valued: no value may match
  ];
  it.each(cases)('%s %s on %j is %s', (op, value, attr, expected) => {
    expect(clause(op, value, attr)).toBe(expected);
  });
  it('covers every operator', () => {
    expect(new Set(cases.map((c) => c[0]))).toEqual(new Set(SCOPING_OPERATORS));
  });
  it('accepts Microsoft spellings loosely', () => {
    expect(canonicalOperator('greater_than_or_equals')).toBe('Greater_Than_OR_EQUALS');
    expect(canonicalOperator('Not Equals')).toBe('NOT EQUALS');
    expect(canonicalOperator('not includes')).toBe('NOT INCLUDES');
    expect(canonicalOperator('LIKE')).toBeNull();
  });
  it('AND within a filter, OR across filters, and names the failing clause', () => {
    const r = rules({
      filters: [
        { name: 'ny-engineering', clauses: [{ attribute: 'st', operator: 'EQUALS', value: 'New York' }, { attribute: 'department', operator: 'EQUALS', value: 'Engineering' }] },
        { name: 'contractors', clauses: [{ attribute: 'employeeType', operator: 'EQUALS', value: 'Contractor' }] },
      ],
    });
    expect(scopeOf(user({ st: 'New York', department: 'Engineering' }), r)).toMatchObject({ inScope: true, detail: 'scoping filter ny-engineering matched' });
    expect(scopeOf(user({ st: 'Ohio', employeeType: 'Contractor' }), r)).toMatchObject({ inScope: true, detail: 'scoping filter contractors matched' });
    expect(scopeOf(user({ st: 'New York', department: 'Sales' }), r)).toEqual({
      inScope: false,
      rule: 'attribute-filter',
      detail: 'no scoping filter matched (ny-engineering: department EQUALS "Engineering" is false; contractors: employeetype EQUALS "Contractor" is false)',
    });
  });
  it('applies a filter only to its object types', () => {
    const r = rules({ filters: [{ objectTypes: ['user'], clauses: [{ attribute: 'department', operator: 'IS NOT NULL' }] }] });
    const group = adEvent({ dn: `CN=G,${BASE}`, objectClass: 'GROUP', attributes: { groupType: '-2147483646', sAMAccountName: 'G' } });
    expect(scopeOf(group, r).inScope).toBe(true);
    expect(scopeOf(user(), r).inScope).toBe(false);
  });
  it('rejects bad clauses when configuration loads', () => {
    expect(() => rules({ filters: [{ clauses: [{ attribute: 'a', operator: 'LIKE', value: 'x' }] }] })).toThrowError(/scoping\.filters\.0\.clauses\.0\.operator: unknown operator "LIKE"/);
    expect(() => rules({ filters: [{ clauses: [{ attribute: 'a', operator: 'Greater_Than', value: 'ten' }] }] })).toThrowError(/needs an integer value/);
    expect(() => rules({ filters: [{ clauses: [{ attribute: 'a', operator: 'EQUALS' }] }] })).toThrowError(/needs a value/);
    expect(() => rules({ filters: [{ clauses: [{ attribute: 'a', operator: 'REGEX MATCH', value: '(' }] }] })).toThrowError(ConfigError);
  });
});

describe('OU scoping', () => {
  const r = rules({
    ous: {
      include: ['OU=Staff,DC=corp,DC=example,DC=test', 'OU=Returning,OU=Quarantine,DC=corp,DC=example,DC=test'],
      exclude: ['ou=quarantine,dc=CORP,dc=example,dc=test', 'OU=Service\\, Accounts,OU=Staff,DC=corp,DC=example,DC=test'],
    },
  });
  it('includes the subtree of an included OU, case-insensitively', () => {
    expect(scopeOf(user({}, 'CN=Jane,OU=Paris,OU=Staff,DC=Corp,DC=Example,DC=Test'), r)).toEqual({
      inScope: true,
      rule: 'in-scope',
      detail: 'under OU=Staff,DC=corp,DC=example,DC=test (included)',
    });
  });
  it('excludes an excluded OU and says which', () => {
    expect(scopeOf(user({}, 'CN=Bad,OU=Quarantine,DC=corp,DC=example,DC=test'), r)).toEqual({
      inScope: false,
      rule: 'ou-exclude',
      detail: 'ou=quarantine,dc=CORP,dc=example,dc=test excluded',
    });
  });
  it('lets the deepest rule win both ways, with escaped characters in DNs', () => {
    expect(scopeOf(user({}, 'CN=svc,OU=Service\\, Accounts,OU=Staff,DC=corp,DC=example,DC=test'), r).rule).toBe('ou-exclude');
    expect(scopeOf(user({}, 'CN=svc,OU=Service\\2c Accounts,OU=Staff,DC=corp,DC=example,DC=test'), r).rule).toBe('ou-exclude');
    expect(scopeOf(user({}, 'CN=back,OU=Returning,OU=Quarantine,DC=corp,DC=example,DC=test'), r).inScope).toBe(true);
  });
  it('leaves out objects under no included OU', () => {
    expect(scopeOf(user({}, 'CN=x,CN=Users,DC=corp,DC=example,DC=test'), r)).toEqual({ inScope: false, rule: 'ou-include', detail: 'not under any included OU' });
  });
  it('does not confuse an OU with one whose name ends the same', () => {
    const only = rules({ ous: { include: ['OU=Staff,DC=corp,DC=example,DC=test'] } });
    expect(scopeOf(user({}, 'CN=x,OU=OldStaff,DC=corp,DC=example,DC=test'), only).inScope).toBe(false);
  });
});

describe('domain, group, class and critical-object scoping', () => {
  it('domain include and exclude', () => {
    const inc = rules({ domains: { include: ['EMEA.corp.example.test'] } });
    expect(scopeOf(user({}, `CN=a,${BASE}`, { domain: 'emea.corp.example.test' }), inc).inScope).toBe(true);
    expect(scopeOf(user(), inc)).toMatchObject({ inScope: false, rule: 'domain-include' });
    const exc = rules({ domains: { exclude: ['corp.example.test'] } });
    expect(scopeOf(user(), exc)).toEqual({ inScope: false, rule: 'domain-exclude', detail: 'domain corp.example.test is excluded' });
  });
  it('group-based: direct members of a listed group by DN or GUID; the group itself', () => {
    const byDn = rules({ groups: ['CN=Cloud Users,OU=Groups,DC=corp,DC=example,DC=test'] });
    const member = user({}, `CN=Jane,${BASE}`, { memberOf: [dnRef('cn=cloud users,ou=groups,dc=corp,dc=example,dc=test', '11111111-2222-3333-4444-555555555555')] });
    expect(scopeOf(member, byDn)).toMatchObject({ inScope: true, detail: 'member of CN=Cloud Users,OU=Groups,DC=corp,DC=example,DC=test' });
    expect(scopeOf(user(), byDn)).toMatchObject({ inScope: false, rule: 'group' });
    const byGuid = rules({ groups: ['11111111-2222-3333-4444-555555555555'] });
    expect(scopeOf(member, byGuid).inScope).toBe(true);
    const nested = user({}, `CN=Jane,${BASE}`, { memberOf: [dnRef('CN=Other,OU=Groups,DC=corp,DC=example,DC=test', '99999999-2222-3333-4444-555555555555')] });
    expect(scopeOf(nested, byGuid).inScope).toBe(false);
    const theGroup = adEvent({ dn: 'CN=Cloud Users,OU=Groups,DC=corp,DC=example,DC=test', objectClass: 'GROUP', guid: '11111111-2222-3333-4444-555555555555', attributes: { groupType: '-2147483646', sAMAccountName: 'cu' } });
    expect(scopeOf(theGroup, byGuid).inScope).toBe(true);
    expect(() => rules({ groups: ['not a dn'] })).toThrowError(/scoping\.groups\.0: "not a dn" is neither a group DN nor a GUID/);
  });
  it("Cloud Sync's default scope: replication conflict objects and Exchange CAS_ system mailboxes are out", () => {
    const r = rules({});
    expect(scopeOf(user({}, `CN=Jane Doe\\0ACNF:6f9619ff-8b86-d011-b42d-00cf4fc964ff,${BASE}`), r)).toMatchObject({ inScope: false, rule: 'system-object' });
    expect(scopeOf(user({ mailNickname: 'CAS_{0B47E6C5-8E4C-4B1D-9D5C-5E1E2F3A4B5C}' }), r)).toMatchObject({ inScope: false, rule: 'system-object' });
    expect(scopeOf(user({ mailNickname: 'CASEY' }), r).inScope).toBe(true);
  });
  it('critical system objects and computers are never in scope', () => {
    const r = rules({});
    expect(scopeOf(user({ isCriticalSystemObject: 'TRUE' }), r)).toMatchObject({ inScope: false, rule: 'critical-system-object' });
    const computer = adEvent({ dn: `CN=PC1,${BASE}`, attributes: { objectClass: ['top', 'person', 'organizationalPerson', 'user', 'computer'] } });
    expect(scopeOf(computer, r)).toMatchObject({ inScope: false, rule: 'object-class' });
    expect(transform(computer, r, ctx)).toMatchObject({ kind: 'skipped' });
  });
});

describe('entering and leaving scope', () => {
  const r = rules({ filters: [{ name: 'licensed', clauses: [{ attribute: 'extensionAttribute1', operator: 'EQUALS', value: 'cloud' }] }] });
  it('UPSERT when the object enters scope, DELETE with the reason when it leaves, DELETE when deleted in AD', () => {
    const before = transform(user({ extensionAttribute1: 'onprem' }), r, ctx);
    expect(before).toMatchObject({ kind: 'op', op: { action: 'DELETE' } });
    const entered = transform(user({ extensionAttribute1: 'cloud' }), r, ctx);
    expect(entered).toMatchObject({ kind: 'op', op: { action: 'UPSERT', reason: null, targetType: 'USER' }, scoping: { inScope: true } });
    const left = transform(user({ extensionAttribute1: 'onprem' }), r, ctx);
    if (left.kind !== 'op') throw new Error('expected an op');
    expect(left.op.action).toBe('DELETE');
    expect(left.op.reason).toBe('out of scope (attribute-filter): no scoping filter matched (licensed: extensionattribute1 EQUALS "cloud" is false)');
    expect(left.op.properties).toEqual({});
    const moved = transform(user({ extensionAttribute1: 'cloud' }, 'CN=Jane,OU=Quarantine,DC=corp,DC=example,DC=test'), rules({ ous: { exclude: ['OU=Quarantine,DC=corp,DC=example,DC=test'] } }), ctx);
    expect(moved).toMatchObject({ kind: 'op', op: { action: 'DELETE', reason: 'out of scope (ou-exclude): OU=Quarantine,DC=corp,DC=example,DC=test excluded' } });
    const tomb = transform(adEvent({ dn: 'CN=Jane\\0ADEL:6f9619ff,CN=Deleted Objects,DC=corp,DC=example,DC=test', kind: 'TOMBSTONE' }), r, ctx);
    expect(tomb).toMatchObject({ kind: 'op', op: { action: 'DELETE', reason: 'deleted in AD' }, scoping: { rule: 'deleted' } });
  });
});
