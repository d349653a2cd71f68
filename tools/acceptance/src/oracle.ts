import type { AdEntry } from './ad-snapshot.js';

/**
 * The acceptance suite's oracle: the tenant Canopy should produce, computed from AD contents and
 * the configuration by rules written from Microsoft's documentation, independently of
 * @canopy/sync-rules (so a bug there shows up here as a difference).
 */
export interface OracleForest {
  name: string;
  entries: AdEntry[];
  /** OU DNs whose subtree is out of scope. */
  excludeOus: string[];
  /** When not empty, only objects under one of these are in scope. */
  includeOus?: string[];
  /** cn of groups scoped out by an attribute filter. */
  excludeGroupCns: string[];
}

export interface OracleTenant {
  initialDomain: string;
  verifiedDomains: string[];
  /** The configuration's jobTitle mapping, when not the default (direct from title). */
  jobTitle?: (title: string) => string;
}

export interface ExpectedUser {
  anchor: string;
  forest: string;
  dn: string;
  props: Record<string, string | boolean>;
}

export interface ExpectedGroup {
  anchor: string;
  forest: string;
  dn: string;
  props: Record<string, string | boolean>;
  members: Set<string>;
}

export interface ExpectedTenant {
  users: Map<string, ExpectedUser>;
  groups: Map<string, ExpectedGroup>;
  /** Objects Graph cannot hold: contacts, distribution and mail-enabled groups. */
  notWritable: Array<{ forest: string; dn: string; why: string }>;
  /** UPNs claimed by more than one in-scope user: exactly one of them may exist in the tenant. */
  upnConflicts: Map<string, string[]>;
}

const lc = (s: string) => s.toLowerCase();
const first = (e: AdEntry, a: string) => e.attrs[a]?.[0];

function underAny(dn: string, bases: string[]): boolean {
  const d = lc(dn).replace(/\s*,\s*/g, ',');
  return bases.some((b) => d.endsWith(`,${lc(b).replace(/\s*,\s*/g, ',')}`));
}

function expectedUpn(upn: string, tenant: OracleTenant): string {
  const at = upn.lastIndexOf('@');
  const suffix = lc(upn.slice(at + 1));
  const verified = tenant.verifiedDomains.map(lc);
  return verified.includes(suffix) ? upn : `${upn.slice(0, at)}@${tenant.initialDomain}`;
}

export function computeExpectedTenant(forests: OracleForest[], tenant: OracleTenant): ExpectedTenant {
  const users = new Map<string, ExpectedUser>();
  const groups = new Map<string, ExpectedGroup>();
  const notWritable: ExpectedTenant['notWritable'] = [];
  const anchorByDn = new Map<string, string>();
  const inScopeDn = new Set<string>();

  for (const f of forests) {
    for (const e of f.entries) {
      if (first(e, 'iscriticalsystemobject') === 'TRUE') continue;
      if (underAny(e.dn, f.excludeOus)) continue;
      if (f.includeOus?.length && !underAny(e.dn, f.includeOus)) continue;
      const anchor = e.guid.toString('base64');
      const isGroup = e.classes.includes('group');
      const isContact = e.classes.includes('contact');
      const isUser = !isGroup && !isContact && e.classes.includes('user');
      if (isContact) {
        notWritable.push({ forest: f.name, dn: e.dn, why: 'contact' });
        continue;
      }
      if (isGroup) {
        if (f.excludeGroupCns.map(lc).includes(lc(first(e, 'cn') ?? ''))) continue;
        const groupType = Number(first(e, 'grouptype') ?? 0);
        const security = (groupType & 0x80000000) !== 0;
        if (!security) {
          notWritable.push({ forest: f.name, dn: e.dn, why: 'distribution group' });
          continue;
        }
        if (first(e, 'mail')) {
          notWritable.push({ forest: f.name, dn: e.dn, why: 'mail-enabled security group' });
          continue;
        }
        groups.set(anchor, {
          anchor,
          forest: f.name,
          dn: e.dn,
          props: { displayName: first(e, 'displayname') ?? first(e, 'cn')!, securityEnabled: true, mailEnabled: false },
          members: new Set(e.members.map(lc)), // DNs for now; resolved to anchors below
        });
      } else if (isUser) {
        // Entra Connect's "In from AD - User" rule: UPN, else sAMAccountName@<domain>.
        const sam = first(e, 'samaccountname');
        const upn = first(e, 'userprincipalname') ?? (sam ? `${sam}@${f.name}` : undefined);
        if (!upn) continue;
        const uac = Number(first(e, 'useraccountcontrol') ?? 512);
        const props: Record<string, string | boolean> = {
          userPrincipalName: expectedUpn(upn, tenant),
          displayName: first(e, 'displayname') ?? first(e, 'cn') ?? sam!,
          accountEnabled: (uac & 2) === 0,
        };
        for (const [attr, prop] of [['givenname', 'givenName'], ['sn', 'surname'], ['title', 'jobTitle'], ['department', 'department'], ['employeeid', 'employeeId'], ['mail', 'mail']] as const) {
          const v = first(e, attr);
          if (v !== undefined) props[prop] = prop === 'jobTitle' && tenant.jobTitle ? tenant.jobTitle(v) : v;
        }
        users.set(anchor, { anchor, forest: f.name, dn: e.dn, props });
      } else continue;
      anchorByDn.set(lc(e.dn), anchor);
      inScopeDn.add(lc(e.dn));
    }
  }
  for (const g of groups.values()) {
    g.members = new Set([...g.members].filter((dn) => inScopeDn.has(dn)).map((dn) => anchorByDn.get(dn)!));
  }
  const byUpn = new Map<string, string[]>();
  for (const u of users.values()) {
    const k = lc(String(u.props.userPrincipalName));
    byUpn.set(k, [...(byUpn.get(k) ?? []), u.anchor]);
  }
  const upnConflicts = new Map([...byUpn].filter(([, anchors]) => anchors.length > 1));
  return { users, groups, notWritable, upnConflicts };
}

/** A tenant object as the Graph emulator exports it. */
export interface TenantObject {
  id: string;
  state: 'live' | 'deleted';
  props: Record<string, unknown>;
  members?: string[];
}

export interface Difference {
  kind: 'missing' | 'unexpected' | 'property' | 'members' | 'conflict';
  anchor: string;
  dn?: string;
  detail: string;
}

/** Compare the tenant with the expected tenant; an empty list means they agree. */
export function compareTenant(expected: ExpectedTenant, tenant: { users: TenantObject[]; groups: TenantObject[] }, groupAnchorProperty: string): Difference[] {
  const diffs: Difference[] = [];
  const liveUsers = tenant.users.filter((u) => u.state === 'live');
  const liveGroups = tenant.groups.filter((g) => g.state === 'live');
  const userByAnchor = new Map(liveUsers.map((u) => [String(u.props.onPremisesImmutableId), u]));
  const groupByAnchor = new Map(liveGroups.map((g) => [String(g.props[groupAnchorProperty]), g]));
  const anchorById = new Map<string, string>([
    ...liveUsers.map((u): [string, string] => [u.id, String(u.props.onPremisesImmutableId)]),
    ...liveGroups.map((g): [string, string] => [g.id, String(g.props[groupAnchorProperty])]),
  ]);
  const conflicted = new Set([...expected.upnConflicts.values()].flat());

  for (const u of expected.users.values()) {
    const got = userByAnchor.get(u.anchor);
    if (!got) {
      if (!conflicted.has(u.anchor)) diffs.push({ kind: 'missing', anchor: u.anchor, dn: u.dn, detail: 'user not in tenant' });
      continue;
    }
    for (const [k, v] of Object.entries(u.props)) {
      const actual = got.props[k];
      const same = typeof v === 'string' && typeof actual === 'string' ? (k === 'userPrincipalName' ? lc(v) === lc(actual) : v === actual) : v === actual;
      if (!same) diffs.push({ kind: 'property', anchor: u.anchor, dn: u.dn, detail: `${k}: expected ${JSON.stringify(v)}, tenant has ${JSON.stringify(actual)}` });
    }
  }
  for (const [upn, anchors] of expected.upnConflicts) {
    const present = anchors.filter((a) => userByAnchor.has(a));
    if (present.length !== 1) diffs.push({ kind: 'conflict', anchor: anchors.join(','), detail: `UPN ${upn}: ${present.length} of ${anchors.length} claimants in tenant (expected exactly 1)` });
  }
  for (const g of expected.groups.values()) {
    const got = groupByAnchor.get(g.anchor);
    if (!got) {
      diffs.push({ kind: 'missing', anchor: g.anchor, dn: g.dn, detail: 'group not in tenant' });
      continue;
    }
    for (const [k, v] of Object.entries(g.props)) {
      if (got.props[k] !== v) diffs.push({ kind: 'property', anchor: g.anchor, dn: g.dn, detail: `${k}: expected ${JSON.stringify(v)}, tenant has ${JSON.stringify(got.props[k])}` });
    }
    const actualMembers = new Set((got.members ?? []).map((id) => anchorById.get(id) ?? `id:${id}`));
    const expectedMembers = new Set([...g.members].filter((a) => !conflicted.has(a) || userByAnchor.has(a)));
    const missing = [...expectedMembers].filter((a) => !actualMembers.has(a));
    const extra = [...actualMembers].filter((a) => !expectedMembers.has(a));
    if (missing.length || extra.length) {
      diffs.push({ kind: 'members', anchor: g.anchor, dn: g.dn, detail: `members: ${missing.length} missing, ${extra.length} unexpected (of ${expectedMembers.size})` });
    }
  }
  for (const u of liveUsers) {
    const a = String(u.props.onPremisesImmutableId);
    if (!expected.users.has(a)) diffs.push({ kind: 'unexpected', anchor: a, detail: `user ${String(u.props.userPrincipalName)} should not be in the tenant` });
  }
  for (const g of liveGroups) {
    const a = String(g.props[groupAnchorProperty]);
    if (!expected.groups.has(a)) diffs.push({ kind: 'unexpected', anchor: a, detail: `group ${String(g.props.displayName)} should not be in the tenant` });
  }
  return diffs;
}
