/**
 * The deterministic directory the seeder writes into each forest. Pure: the same options give the
 * same entries, in the same order, on every machine, so tests compute their expectations by calling
 * `buildDirectory()` with the options recorded in stack.json instead of reading them back.
 *
 * Creation order matters: every DN an entry points at (manager, member) is created before it.
 */
import { FIXED_PEOPLE, POOLS, type PersonName } from './names.js';

/** Bump when the generated directory changes; seeded forests with another version are re-seeded. */
export const MODEL_VERSION = 2;

export const DEFAULT_USERS = 1000;
export const DEFAULT_SEED = 1;
/** The large group always ends up above this many members (AD's range-retrieval limit is 1,500). */
export const LARGE_GROUP_MIN_MEMBERS = 5100;

export const GROUP_TYPE = {
  globalSecurity: -2147483646,
  domainLocalSecurity: -2147483644,
  universalSecurity: -2147483640,
  globalDistribution: 2,
  domainLocalDistribution: 4,
  universalDistribution: 8,
} as const;

export const UAC = {
  normal: 0x200, // 512
  disabled: 0x2, // ACCOUNTDISABLE
  dontExpirePassword: 0x10000, // 65536
} as const;

export const DEPARTMENTS = [
  {
    name: 'Engineering',
    weight: 30,
    titles: ['Software Engineer', 'Senior Software Engineer', 'Staff Engineer', 'QA Engineer', 'SRE'],
  },
  {
    name: 'Sales',
    weight: 18,
    titles: ['Account Executive', 'Sales Development Rep', 'Regional Sales Manager'],
  },
  { name: 'Marketing', weight: 10, titles: ['Marketing Specialist', 'Content Strategist', 'Brand Manager'] },
  { name: 'Finance', weight: 8, titles: ['Accountant', 'Financial Analyst', 'Controller'] },
  { name: 'Human Resources', weight: 6, titles: ['HR Generalist', 'Recruiter', 'HR Business Partner'] },
  {
    name: 'Operations',
    weight: 12,
    titles: ['Operations Analyst', 'Facilities Coordinator', 'Logistics Lead'],
  },
  { name: 'Legal', weight: 4, titles: ['Counsel', 'Paralegal', 'Compliance Officer'] },
  { name: 'Support', weight: 12, titles: ['Support Engineer', 'Customer Success Manager', 'Support Lead'] },
] as const;

export const UNVERIFIED_UPN_SUFFIX = 'legacy.invalid';

export interface DirectoryOptions {
  /** Forest key, e.g. "corp"; part of the PRNG seed, so forests differ. */
  forest: string;
  /** DNS name of the domain, e.g. corp.example.test (UPN and mail suffix). */
  realm: string;
  /** e.g. DC=corp,DC=example,DC=test */
  baseDn: string;
  users?: number;
  seed?: number;
}

export type Attrs = Record<string, string | string[]>;
export type EntryKind = 'ou' | 'user' | 'contact' | 'group';
export interface SeedEntry {
  kind: EntryKind;
  dn: string;
  attrs: Attrs;
}

export type UserCategory = 'department' | 'disabled-ou' | 'service' | 'quarantine';
export interface SeedUser {
  dn: string;
  cn: string;
  sAMAccountName: string;
  userPrincipalName: string;
  mail?: string;
  displayName: string;
  givenName?: string;
  sn?: string;
  department?: string;
  title?: string;
  employeeID: string;
  managerDn?: string;
  userAccountControl: number;
  enabled: boolean;
  category: UserCategory;
  proxyAddresses: string[];
}
export interface SeedGroup {
  dn: string;
  name: string;
  groupType: number;
  members: string[];
  mail?: string;
}
export interface SeedContact {
  dn: string;
  mail: string;
  displayName: string;
}

export interface DirectoryModel {
  options: Required<DirectoryOptions>;
  version: number;
  entries: SeedEntry[];
  ous: string[];
  users: SeedUser[];
  groups: SeedGroup[];
  contacts: SeedContact[];
  /** OU holding objects a sync would normally leave out of scope. */
  outOfScopeOu: string;
  largeGroup: SeedGroup;
  /** Fixed, always-present people (first users), by Latin "given sn". */
  fixedUsers: SeedUser[];
}

/** mulberry32: tiny, fast, deterministic PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashString(s: string): number {
  let h = 2166136261;
  for (const ch of s) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/** Escape an RDN value (RFC 4514). */
export function escapeRdn(value: string): string {
  let out = value.replace(/[\\,+"<>;=]/g, (c) => `\\${c}`);
  if (out.startsWith(' ') || out.startsWith('#')) out = `\\${out}`;
  if (out.endsWith(' ')) out = `${out.slice(0, -1)}\\ `;
  return out;
}

const asciiSlug = (s: string) =>
  s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');

export function buildDirectory(input: DirectoryOptions): DirectoryModel {
  const options: Required<DirectoryOptions> = {
    users: DEFAULT_USERS,
    seed: DEFAULT_SEED,
    ...input,
  };
  const { realm, baseDn } = options;
  const n = options.users;
  if (!Number.isInteger(n) || n < 20) throw new Error(`users must be an integer >= 20 (got ${n})`);
  const rnd = prng(hashString(`${options.forest}|${options.seed}|${MODEL_VERSION}`));
  const pick = <T>(arr: readonly T[]): T => arr[Math.floor(rnd() * arr.length)]!;
  const weighted = <T extends { weight: number }>(arr: readonly T[]): T => {
    const total = arr.reduce((s, x) => s + x.weight, 0);
    let r = rnd() * total;
    for (const x of arr) {
      r -= x.weight;
      if (r < 0) return x;
    }
    return arr[arr.length - 1]!;
  };
  const idPrefix = options.forest.slice(0, 1).toUpperCase();

  const entries: SeedEntry[] = [];
  const ous: string[] = [];
  const ouDn = (...names: string[]) => [...names.map((x) => `OU=${escapeRdn(x)}`), baseDn].join(',');
  const addOu = (dn: string, name: string, description: string) => {
    ous.push(dn);
    entries.push({
      kind: 'ou',
      dn,
      attrs: { objectClass: ['top', 'organizationalUnit'], ou: name, description },
    });
  };

  // --- OU tree ------------------------------------------------------------------------------
  const rootOu = ouDn('Canopy');
  addOu(rootOu, 'Canopy', 'Seeded by scripts/stack seed');
  const deptRoot = ouDn('Departments', 'Canopy');
  addOu(deptRoot, 'Departments', 'One OU per department');
  const deptOus = new Map<string, string>();
  for (const d of DEPARTMENTS) {
    const dn = ouDn(d.name, 'Departments', 'Canopy');
    deptOus.set(d.name, dn);
    addOu(dn, d.name, `${d.name} department`);
  }
  const disabledOu = ouDn('Disabled Users', 'Canopy');
  addOu(disabledOu, 'Disabled Users', 'Leavers, accounts disabled');
  const serviceOu = ouDn('Service Accounts', 'Canopy');
  addOu(serviceOu, 'Service Accounts', 'Non-human accounts');
  const groupsOu = ouDn('Groups', 'Canopy');
  addOu(groupsOu, 'Groups', 'Security and distribution groups');
  const contactsOu = ouDn('Contacts', 'Canopy');
  addOu(contactsOu, 'Contacts', 'External mail contacts');
  const quarantineOu = ouDn('Quarantine', 'Canopy');
  addOu(quarantineOu, 'Quarantine', 'Out of sync scope on purpose');

  // --- users --------------------------------------------------------------------------------
  const svcCount = Math.max(3, Math.round(n * 0.02));
  const disabledOuCount = Math.max(3, Math.round(n * 0.04));
  const quarantineCount = Math.max(2, Math.round(n * 0.01));
  const fixed = Math.min(FIXED_PEOPLE.length, n);
  const deptCount = n - svcCount - disabledOuCount - quarantineCount;
  if (deptCount < fixed) throw new Error(`users=${n} is too small`);
  const categories: UserCategory[] = [
    ...Array<UserCategory>(deptCount - fixed).fill('department'),
    ...Array<UserCategory>(svcCount).fill('service'),
    ...Array<UserCategory>(disabledOuCount).fill('disabled-ou'),
    ...Array<UserCategory>(quarantineCount).fill('quarantine'),
  ];
  for (let i = categories.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [categories[i], categories[j]] = [categories[j]!, categories[i]!];
  }
  categories.unshift(...Array<UserCategory>(fixed).fill('department'));

  const usedSam = new Set<string>(['administrator', 'guest', 'krbtgt', 'svc-canopy']);
  const usedMail = new Set<string>();
  const usedCn = new Map<string, Set<string>>();
  // Next suffix to try per base name, so uniqueness stays O(1) per name at 50,000 users.
  const nextSuffix = new Map<string, number>();
  const uniqueIn = (set: Set<string>, base: string, max = 64) => {
    let candidate = base.slice(0, max);
    const memo = `${max}|${base.toLowerCase()}`;
    for (let k = nextSuffix.get(memo) ?? 2; set.has(candidate.toLowerCase()); k++) {
      candidate = `${base.slice(0, max - String(k).length)}${k}`;
      nextSuffix.set(memo, k + 1);
    }
    set.add(candidate.toLowerCase());
    return candidate;
  };
  const uniqueCn = (ou: string, base: string) => {
    let set = usedCn.get(ou);
    if (!set) usedCn.set(ou, (set = new Set()));
    let candidate = base;
    const memo = `cn|${ou}|${base.toLowerCase()}`;
    for (let k = nextSuffix.get(memo) ?? 2; set.has(candidate.toLowerCase()); k++) {
      candidate = `${base} ${k}`;
      nextSuffix.set(memo, k + 1);
    }
    set.add(candidate.toLowerCase());
    return candidate;
  };
  const randomPerson = (): PersonName => {
    const pool = weighted(POOLS);
    const [given, givenLatin] = pick(pool.given);
    const [sn, snLatin] = pick(pool.sn);
    return { given, sn, givenLatin, snLatin, familyFirst: pool.familyFirst };
  };

  const users: SeedUser[] = [];
  const deptHeads = new Map<string, SeedUser>();
  const deptLeads = new Map<string, SeedUser>();
  const deptSize = new Map<string, number>();
  const deptMembers = new Map<string, string[]>();
  const svcApps = ['backup', 'crm', 'erp', 'print', 'monitoring', 'ci', 'payroll', 'intranet', 'sql', 'web'];

  for (let i = 0; i < n; i++) {
    const category = categories[i]!;
    const employeeID = `${idPrefix}${String(i + 1).padStart(6, '0')}`;
    const telephoneNumber = `+1 425 555 ${String(1000 + ((i * 7919) % 9000)).padStart(4, '0')}`;
    let attrs: Attrs;
    let user: SeedUser;

    if (category === 'service') {
      const app = pick(svcApps);
      const sam = uniqueIn(usedSam, `svc-${app}`, 20);
      const cn = uniqueCn(serviceOu, sam);
      const dn = `CN=${escapeRdn(cn)},${serviceOu}`;
      const uac = UAC.normal | UAC.dontExpirePassword;
      const upn = `${sam}@${realm}`;
      attrs = {
        objectClass: ['top', 'person', 'organizationalPerson', 'user'],
        cn,
        sAMAccountName: sam,
        userPrincipalName: upn,
        displayName: `Service account: ${app}`,
        description: `Runs the ${app} service`,
        employeeID,
        userAccountControl: String(uac),
      };
      user = {
        dn,
        cn,
        sAMAccountName: sam,
        userPrincipalName: upn,
        displayName: String(attrs.displayName),
        employeeID,
        userAccountControl: uac,
        enabled: true,
        category,
        proxyAddresses: [],
      };
    } else {
      const person = i < fixed ? FIXED_PEOPLE[i]! : randomPerson();
      const dept = i < fixed ? DEPARTMENTS[i % DEPARTMENTS.length]! : weighted(DEPARTMENTS);
      const ou =
        category === 'department'
          ? deptOus.get(dept.name)!
          : category === 'disabled-ou'
            ? disabledOu
            : quarantineOu;
      const displayName = person.familyFirst ? `${person.sn}${person.given}` : `${person.given} ${person.sn}`;
      const cn = uniqueCn(ou, displayName);
      const dn = `CN=${escapeRdn(cn)},${ou}`;
      const sam = uniqueIn(
        usedSam,
        `${asciiSlug(person.givenLatin).slice(0, 1)}${asciiSlug(person.snLatin)}`.slice(0, 16),
        20,
      );
      const mailLocal = uniqueIn(
        usedMail,
        `${asciiSlug(person.givenLatin)}.${asciiSlug(person.snLatin)}`,
        48,
      );
      const mail = `${mailLocal}@${realm}`;
      // A few UPNs carry a suffix that is not a verified domain in the tenant.
      const upnSuffix = i >= fixed && rnd() < 0.03 ? UNVERIFIED_UPN_SUFFIX : realm;
      const upn = `${sam}@${upnSuffix}`;
      const disabled =
        category === 'disabled-ou' || (category === 'department' && i >= fixed && rnd() < 0.03);
      const uac = UAC.normal | (disabled ? UAC.disabled : 0);
      const proxyAddresses = [`SMTP:${mail}`, `smtp:${sam}@${realm}`];
      if (rnd() < 0.2) proxyAddresses.push(`smtp:${mailLocal}@mail.${realm}`);

      let managerDn: string | undefined;
      let title: string = pick(dept.titles);
      if (category === 'department') {
        const size = (deptSize.get(dept.name) ?? 0) + 1;
        deptSize.set(dept.name, size);
        const head = deptHeads.get(dept.name);
        if (!head) title = `Head of ${dept.name}`;
        else if (size % 8 === 2) {
          title = `${dept.name} Team Lead`;
          managerDn = head.dn;
        } else managerDn = (deptLeads.get(dept.name) ?? head).dn;
      }
      attrs = {
        objectClass: ['top', 'person', 'organizationalPerson', 'user'],
        cn,
        sAMAccountName: sam,
        userPrincipalName: upn,
        givenName: person.given,
        sn: person.sn,
        displayName,
        mail,
        proxyAddresses,
        department: dept.name,
        title,
        company:
          options.forest === 'corp'
            ? 'Contoso Corp'
            : `${options.forest[0]!.toUpperCase()}${options.forest.slice(1)} Ltd`,
        employeeID,
        telephoneNumber,
        userAccountControl: String(uac),
      };
      if (managerDn) attrs.manager = managerDn;
      user = {
        dn,
        cn,
        sAMAccountName: sam,
        userPrincipalName: upn,
        mail,
        displayName,
        givenName: person.given,
        sn: person.sn,
        department: dept.name,
        title,
        employeeID,
        managerDn,
        userAccountControl: uac,
        enabled: !disabled,
        category,
        proxyAddresses,
      };
      if (category === 'department') {
        if (!deptHeads.has(dept.name)) deptHeads.set(dept.name, user);
        else if (title.endsWith('Team Lead')) deptLeads.set(dept.name, user);
        const list = deptMembers.get(dept.name) ?? [];
        list.push(dn);
        deptMembers.set(dept.name, list);
      }
    }
    users.push(user);
    entries.push({ kind: 'user', dn: user.dn, attrs });
  }

  // --- contacts -----------------------------------------------------------------------------
  const contacts: SeedContact[] = [];
  const contactCount = Math.max(100, LARGE_GROUP_MIN_MEMBERS - n);
  const contactMails = new Set<string>();
  for (let i = 0; i < contactCount; i++) {
    const person = randomPerson();
    const displayName = person.familyFirst ? `${person.sn}${person.given}` : `${person.given} ${person.sn}`;
    const cn = uniqueCn(contactsOu, `${displayName} (external)`);
    const dn = `CN=${escapeRdn(cn)},${contactsOu}`;
    const local = uniqueIn(contactMails, `${asciiSlug(person.givenLatin)}.${asciiSlug(person.snLatin)}`, 48);
    const mail = `${local}@partner${(i % 5) + 1}.example`;
    contacts.push({ dn, mail, displayName });
    entries.push({
      kind: 'contact',
      dn,
      attrs: {
        objectClass: ['top', 'person', 'organizationalPerson', 'contact'],
        cn,
        givenName: person.given,
        sn: person.sn,
        displayName,
        mail,
        proxyAddresses: [`SMTP:${mail}`],
        company: `Partner ${(i % 5) + 1}`,
      },
    });
  }

  // --- groups (members before the groups that contain them) -----------------------------------
  const groups: SeedGroup[] = [];
  const addGroup = (ou: string, name: string, groupType: number, members: string[], extra: Attrs = {}) => {
    const dn = `CN=${escapeRdn(name)},${ou}`;
    const group: SeedGroup = {
      dn,
      name,
      groupType,
      members,
      mail: typeof extra.mail === 'string' ? extra.mail : undefined,
    };
    groups.push(group);
    const attrs: Attrs = {
      objectClass: ['top', 'group'],
      cn: name,
      sAMAccountName: name,
      groupType: String(groupType),
      ...extra,
    };
    if (members.length) attrs.member = members;
    entries.push({ kind: 'group', dn, attrs });
    return group;
  };
  const slug = (s: string) => s.replace(/\s+/g, '');
  const deptGroups: SeedGroup[] = [];
  for (const d of DEPARTMENTS) {
    deptGroups.push(
      addGroup(groupsOu, `GG-${slug(d.name)}`, GROUP_TYPE.globalSecurity, deptMembers.get(d.name) ?? [], {
        description: `All ${d.name} staff`,
      }),
    );
  }
  for (const [k, d] of DEPARTMENTS.entries()) {
    const head = deptHeads.get(d.name);
    addGroup(
      groupsOu,
      `DL-${slug(d.name)}-Announce`,
      GROUP_TYPE.universalDistribution,
      [deptGroups[k]!.dn, ...(head ? [head.dn] : [])],
      {
        mail: `${asciiSlug(d.name)}-announce@${realm}`,
        proxyAddresses: [`SMTP:${asciiSlug(d.name)}-announce@${realm}`],
      },
    );
  }
  addGroup(
    groupsOu,
    'GG-All-Staff',
    GROUP_TYPE.globalSecurity,
    deptGroups.map((g) => g.dn),
    {
      description: 'Nested: every department group',
    },
  );
  const deptUsersFlat = users.filter((u) => u.category === 'department');
  const l3 = addGroup(
    groupsOu,
    'GG-Nested-L3',
    GROUP_TYPE.globalSecurity,
    deptUsersFlat.slice(0, 5).map((u) => u.dn),
  );
  const l2 = addGroup(groupsOu, 'GG-Nested-L2', GROUP_TYPE.globalSecurity, [l3.dn, deptUsersFlat[5]!.dn]);
  addGroup(groupsOu, 'GG-Nested-L1', GROUP_TYPE.globalSecurity, [l2.dn]);
  const fin = deptGroups.find((g) => g.name === 'GG-Finance')!;
  const legal = deptGroups.find((g) => g.name === 'GG-Legal')!;
  addGroup(groupsOu, 'DLG-FileShare-Finance-RW', GROUP_TYPE.domainLocalSecurity, [fin.dn, legal.dn]);
  addGroup(
    groupsOu,
    'GG-Service-Accounts',
    GROUP_TYPE.globalSecurity,
    users.filter((u) => u.category === 'service').map((u) => u.dn),
  );
  addGroup(groupsOu, 'GG-Empty', GROUP_TYPE.globalSecurity, []);
  addGroup(
    groupsOu,
    'UDL-Partner-Newsletter',
    GROUP_TYPE.universalDistribution,
    [...contacts.slice(0, 50).map((c) => c.dn), ...deptUsersFlat.slice(0, 10).map((u) => u.dn)],
    { mail: `newsletter@${realm}`, proxyAddresses: [`SMTP:newsletter@${realm}`] },
  );
  const largeGroup = addGroup(
    groupsOu,
    'UG-All-Directory-Large',
    GROUP_TYPE.universalSecurity,
    [...users.map((u) => u.dn), ...contacts.map((c) => c.dn)],
    { description: `Every seeded user and contact (more than ${LARGE_GROUP_MIN_MEMBERS - 100} members)` },
  );
  addGroup(
    quarantineOu,
    'GG-Quarantined',
    GROUP_TYPE.globalSecurity,
    users.filter((u) => u.category === 'quarantine').map((u) => u.dn),
  );

  return {
    options,
    version: MODEL_VERSION,
    entries,
    ous,
    users,
    groups,
    contacts,
    outOfScopeOu: quarantineOu,
    largeGroup,
    fixedUsers: users.slice(0, fixed),
  };
}
