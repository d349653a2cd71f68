import { guidToString } from '@canopy/contracts';
import fc from 'fast-check';
import type { Client } from 'ldapts';

/**
 * Hostile AD objects for the hostile-input suite: what a real directory can hold and a sync
 * engine must survive. Users, groups and contacts as LDAP attributes (the suite writes them to a
 * DC; what the DC refuses is counted apart there).
 */
export interface HostileCase {
  label: string;
  kind: 'user' | 'group' | 'contact';
  cn: string;
  attrs: Record<string, string | string[]>;
  members?: number[];
}

/** RFC 4514 escaping of an RDN value (what AD expects in a DN). */
export function escapeRdn(v: string): string {
  return v
    .replace(/([,+"\\<>;=])/g, '\\$1')
    .replace(/^([ #])/, '\\$1')
    .replace(/ $/, '\\ ');
}

const RTL = '\u202e\u0627\u0644\u0639\u0631\u0628\u064a\u0629 \u05e2\u05d1\u05e8\u05d9\u05ea';
const COMBINING = 'Z\u0351\u0354\u0300\u0301\u0302\u0303\u0304\u0305\u0306a\u0307\u0308\u0309\u030a';
const CONTROLS = 'a\u0001\u0007\u0008\u001b[31mred\u007f\u0085\u2028\u2029\r\nb';
const nasty = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      RTL,
      COMBINING,
      CONTROLS,
      'nul\u0000inside',
      '\ufeffbom',
      'zero\u200bwidth\u200d',
      '\ud800lone',
      ' padded ',
      '"quoted"',
      '\\back\\slash',
      '<script>x</script>',
      '%s%n%x',
      "'; DROP TABLE users;--",
      '\ud83d\ude00\ud83c\udff3\ufe0f\u200d\ud83c\udf08',
    ),
  },
);
const cnPart = fc
  .array(
    fc.constantFrom(
      ',',
      '+',
      '"',
      '\\',
      '<',
      '>',
      ';',
      '=',
      '#',
      ' ',
      '\u00e9',
      '\u00df',
      '\u202e',
      'e\u0301',
      'A',
    ),
    { minLength: 0, maxLength: 8 },
  )
  .map((cs) => cs.join(''));
const upn = fc.oneof(
  fc.constantFrom(
    'a b@corp.example.test',
    'quote"d@corp.example.test',
    'two@@corp.example.test',
    'trailing.@corp.example.test',
    'no-domain',
    '@corp.example.test',
    'x@unverified.example',
    '\u00fcml\u00e4ut@corp.example.test',
    'paren(s)@corp.example.test',
    'dot..dot@corp.example.test',
    `${'l'.repeat(120)}@corp.example.test`,
  ),
  nasty.map((s) => `${s}@corp.example.test`),
);
const proxy = fc.oneof(
  fc.constantFrom(
    'SMTP:primary@corp.example.test',
    'SMTP:second-primary@corp.example.test',
    'smtp:shared@corp.example.test',
    'smtp:SHARED@corp.example.test',
    'X500:/o=Org/ou=Exchange/cn=Recipients/cn=x',
    'sip:user@corp.example.test',
    'noprefix@corp.example.test',
    'smtp:',
    'SMTP:bad address@corp.example.test',
  ),
  nasty.map((s) => `smtp:${s}@corp.example.test`),
);
const userArb = fc.record(
  {
    pre: cnPart,
    post: cnPart,
    displayName: nasty,
    givenName: nasty,
    sn: nasty,
    title: nasty,
    department: nasty,
    company: nasty,
    description: fc.oneof(
      nasty,
      fc.constant('\u05d0'.repeat(1024)),
      fc.constant(`${RTL}${COMBINING}`.repeat(40).slice(0, 1024)),
    ),
    mail: upn,
    userPrincipalName: upn,
    proxyAddresses: fc.uniqueArray(proxy, { minLength: 1, maxLength: 6 }),
    otherTelephone: fc.uniqueArray(nasty, { minLength: 1, maxLength: 5 }),
    telephoneNumber: nasty,
    employeeID: nasty.map((s) => s.slice(0, 16)),
    disabled: fc.boolean(),
  },
  { requiredKeys: ['pre', 'post'] },
);
const groupArb = fc.record({
  pre: cnPart,
  post: cnPart,
  description: fc.option(nasty, { nil: undefined }),
  groupType: fc.constantFrom('-2147483646', '-2147483644', '-2147483640', '2', '8'),
  members: fc.uniqueArray(fc.nat({ max: 10_000 }), { maxLength: 8 }),
});

/** Property-based cases (fast-check, deterministic for a seed). */
export function generatedCases(
  run: string,
  seed: number,
  userCount: number,
  groupCount: number,
): HostileCase[] {
  const cases: HostileCase[] = [];
  const users = fc.sample(userArb, { numRuns: userCount, seed });
  users.forEach((u, i) => {
    const { pre, post, disabled, ...rest } = u;
    const attrs: Record<string, string | string[]> = Object.fromEntries(
      Object.entries(rest).filter(([, v]) => v !== undefined),
    ) as Record<string, string | string[]>;
    if (disabled) attrs.userAccountControl = '514';
    cases.push({ label: `generated user ${i}`, kind: 'user', cn: `${pre}hu${i}-${run}${post}`, attrs });
  });
  const groups = fc.sample(groupArb, { numRuns: groupCount, seed: seed + 1 });
  groups.forEach((g, i) => {
    cases.push({
      label: `generated group ${i} (groupType ${g.groupType})`,
      kind: 'group',
      cn: `${g.pre}hg${i}-${run}${g.post}`,
      attrs: { groupType: g.groupType, ...(g.description ? { description: g.description } : {}) },
      members: g.members,
    });
  });
  return cases;
}

/** Hand-written extremes: the limits and conflicts a generator rarely hits. */
export function fixedCases(run: string): HostileCase[] {
  return [
    // 10,000 values of ~110 bytes: over 1 MB of one object, above the reader's 900 KB event limit.
    {
      label: '10,000 proxyAddresses (object over 1 MB)',
      kind: 'user',
      cn: `Huge Proxy ${run}`,
      attrs: {
        proxyAddresses: Array.from(
          { length: 10_000 },
          (_, i) => `smtp:alias-${String(i).padStart(5, '0')}-${'p'.repeat(80)}@corp.example.test`,
        ),
      },
    },
    {
      label: '10,000 otherTelephone values',
      kind: 'user',
      cn: `Many Phones ${run}`,
      attrs: {
        otherTelephone: Array.from({ length: 10_000 }, (_, i) => `+1 555 ${String(i).padStart(5, '0')}`),
      },
    },
    {
      label: 'description at Samba\u2019s 1,024-character limit, RTL and combining marks',
      kind: 'user',
      cn: `Long Description ${run}`,
      attrs: { description: `${RTL}${COMBINING}`.repeat(50).slice(0, 1024), displayName: RTL },
    },
    {
      label: 'only a CN (no UPN, display name, names, mail)',
      kind: 'user',
      cn: `Bare ${run}`,
      attrs: { userPrincipalName: [] },
    },
    {
      label: 'duplicate UPN (first)',
      kind: 'user',
      cn: `Dup UPN A ${run}`,
      attrs: { userPrincipalName: `dup.${run}@corp.example.test` },
    },
    {
      label: 'duplicate UPN (second)',
      kind: 'user',
      cn: `Dup UPN B ${run}`,
      attrs: { userPrincipalName: `dup.${run}@corp.example.test` },
    },
    {
      label: 'same primary SMTP as another user (first)',
      kind: 'user',
      cn: `Dup SMTP A ${run}`,
      attrs: {
        proxyAddresses: [`SMTP:same.${run}@corp.example.test`],
        mail: `same.${run}@corp.example.test`,
      },
    },
    {
      label: 'same primary SMTP as another user (second)',
      kind: 'user',
      cn: `Dup SMTP B ${run}`,
      attrs: {
        proxyAddresses: [`SMTP:same.${run}@corp.example.test`],
        mail: `same.${run}@corp.example.test`,
      },
    },
    {
      label: 'proxyAddresses differing only in case, two primaries',
      kind: 'user',
      cn: `Case Proxy ${run}`,
      attrs: {
        proxyAddresses: [
          `SMTP:case.${run}@corp.example.test`,
          `smtp:CASE.${run}@corp.example.test`,
          `SMTP:other.${run}@corp.example.test`,
        ],
      },
    },
    {
      label: 'NUL and control characters in names',
      kind: 'user',
      cn: `Controls ${run}`,
      attrs: { displayName: CONTROLS, givenName: 'nul\u0000inside', sn: '\u0007bell' },
    },
    {
      label: 'every escaped DN character, leading and trailing spaces',
      kind: 'user',
      cn: ` #,+"\\<>;= ${run} `,
      attrs: {},
    },
    {
      label: 'leading # and = in the CN',
      kind: 'group',
      cn: `#=Group ${run}`,
      attrs: { groupType: '-2147483646' },
      members: [0, 1, 2],
    },
    {
      label: 'group without members',
      kind: 'group',
      cn: `Empty Group ${run}`,
      attrs: { groupType: '-2147483646' },
    },
    {
      label: 'distribution group (Graph cannot create it)',
      kind: 'group',
      cn: `Distribution ${run}`,
      attrs: { groupType: '2', mail: `dist.${run}@corp.example.test` },
      members: [3],
    },
    {
      label: 'contact with hostile values (Graph cannot create contacts)',
      kind: 'contact',
      cn: `Contact ${RTL} ${run}`,
      attrs: { displayName: COMBINING, mail: `contact.${run}@elsewhere.example` },
    },
  ];
}

export interface CreatedCase extends HostileCase {
  dn: string;
  /** objectGUID, canonical string form. */
  guid: string;
}

/**
 * Write the cases under `ou` (users first: groups take members among them). What the DC refuses
 * is returned with its reason, not thrown.
 */
export async function writeCases(
  client: Client,
  ou: string,
  realm: string,
  run: string,
  cases: HostileCase[],
): Promise<{ created: CreatedCase[]; refused: Array<{ label: string; reason: string }> }> {
  const created: CreatedCase[] = [];
  const refused: Array<{ label: string; reason: string }> = [];
  const ordered = [...cases.filter((c) => c.kind !== 'group'), ...cases.filter((c) => c.kind === 'group')];
  for (const [index, c] of ordered.entries()) {
    const dn = `CN=${escapeRdn(c.cn)},${ou}`;
    const sam = `h${run.slice(0, 6)}${index}`;
    const attrs = Object.fromEntries(
      Object.entries(c.attrs).filter(([, v]) => !(Array.isArray(v) && v.length === 0)),
    );
    const entry: Record<string, string | string[]> =
      c.kind === 'user'
        ? {
            objectClass: ['top', 'person', 'organizationalPerson', 'user'],
            cn: c.cn,
            sAMAccountName: sam,
            userAccountControl: '512',
            ...('userPrincipalName' in c.attrs ? {} : { userPrincipalName: `${sam}@${realm}` }),
            ...attrs,
          }
        : c.kind === 'group'
          ? {
              objectClass: ['top', 'group'],
              cn: c.cn,
              sAMAccountName: sam,
              ...attrs,
              ...(c.members?.length
                ? {
                    member: [
                      ...new Set(
                        c.members
                          .map(
                            (m) =>
                              created.filter((x) => x.kind === 'user')[
                                m % Math.max(1, created.filter((x) => x.kind === 'user').length)
                              ]?.dn,
                          )
                          .filter((d): d is string => !!d),
                      ),
                    ],
                  }
                : {}),
            }
          : { objectClass: ['top', 'person', 'organizationalPerson', 'contact'], cn: c.cn, ...attrs };
    if (Array.isArray(entry.member) && entry.member.length === 0) delete entry.member;
    try {
      await client.add(dn, entry);
    } catch (err) {
      refused.push({
        label: c.label,
        reason: (err as Error).message.replace(/ on entry '.*?'/, '').slice(0, 160),
      });
      continue;
    }
    const { searchEntries } = await client.search(dn, {
      scope: 'base',
      filter: '(objectClass=*)',
      attributes: ['objectGUID', 'distinguishedName'],
      explicitBufferAttributes: ['objectGUID'],
    });
    created.push({
      ...c,
      dn: String(searchEntries[0]!.distinguishedName ?? dn),
      guid: guidToString(searchEntries[0]!.objectGUID as Buffer),
    });
  }
  return { created, refused };
}
