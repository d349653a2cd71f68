import { createHash } from 'node:crypto';
import { guidToString, type AdObjectEvent, type DnRef } from '@canopy/contracts';
import fc from 'fast-check';
import { Control, type Client } from 'ldapts';

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
    // Each generated UPN is unique (the DC refuses a UPN another object holds): a prefix made of
    // the index and the run, the hostile shape after it kept (no '@', '@@', a trailing dot, ...).
    if (typeof attrs.userPrincipalName === 'string') attrs.userPrincipalName = `u${i}x${run}${attrs.userPrincipalName}`;
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
      label: 'UPN with an empty local part',
      kind: 'user',
      cn: `Empty UPN Local ${run}`,
      attrs: { userPrincipalName: `@${run}.corp.example.test` },
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

/** A hostile AD snapshot the DC cannot hold but a reader could still emit (published as is). */
export interface SyntheticCase {
  label: string;
  event: AdObjectEvent;
}

/** A GUID derived from the run and a label (reproducible for a run). */
function guidOf(run: string, label: string): Buffer {
  return createHash('sha256').update(`${run}/${label}`).digest().subarray(0, 16);
}

/**
 * Snapshots with what a DC will not store but a reader could emit: values over 1 MB (up to and
 * over Kafka's record limit), bytes that are not UTF-8, lone surrogates, no attributes at all, a
 * malformed DN, 10,000 members nobody knows, a bad consistency GUID, a tombstone of an object
 * never synced, several values in single-valued attributes. Published onto the reader's output
 * topic directly, so the transformer and the writer see them.
 */
export function syntheticCases(forest: string, ou: string, run: string, readerId = 'hostile-synthetic'): SyntheticCase[] {
  const readAt = new Date();
  const snapshot = (label: string, kind: 'user' | 'group', cn: string, over: Partial<AdObjectEvent>): SyntheticCase => {
    const sam = `s${createHash('sha256').update(`${run}/${label}`).digest('hex').slice(0, 12)}`;
    return {
      label,
      event: {
        forest,
        domain: forest,
        objectGuid: guidOf(run, label),
        objectClass: kind === 'user' ? 'USER' : 'GROUP',
        kind: 'SNAPSHOT',
        dn: `CN=${escapeRdn(cn)},${ou}`,
        usnChanged: 1,
        readAt,
        readerId,
        attributes: {
          cn: [cn],
          samaccountname: [sam],
          ...(kind === 'user' ? { userprincipalname: [`${sam}@${forest}`], useraccountcontrol: ['512'] } : { grouptype: ['-2147483646'] }),
        },
        binaryAttributes: {},
        members: kind === 'group' ? [] : null,
        memberOf: [],
        lastKnownParent: null,
        origin: 'FULL',
        cycleId: null,
        ...over,
      },
    };
  };
  const base = (c: SyntheticCase) => c.event.attributes;
  const cases: SyntheticCase[] = [];
  const add = (label: string, kind: 'user' | 'group', cn: string, over: (c: SyntheticCase) => Partial<AdObjectEvent>) => {
    const c = snapshot(label, kind, cn, {});
    c.event = { ...c.event, ...over(c) };
    cases.push(c);
  };
  add('displayName of 1,000,001 characters (over 1 MB, under Kafka\u2019s record limit)', 'user', `Synth MB ${run}`, (c) => ({
    attributes: { ...base(c), displayname: ['D'.repeat(1_000_001)] },
  }));
  add('description of 1.2 MB (over Kafka\u2019s 1 MiB record limit)', 'user', `Synth Over Limit ${run}`, (c) => ({
    attributes: { ...base(c), description: ['\u05d0'.repeat(600_000)] },
  }));
  add('displayName of 500,000 characters (op under the limit, Graph\u2019s 256)', 'user', `Synth Half MB ${run}`, (c) => ({
    attributes: { ...base(c), displayname: [`${RTL}${'x'.repeat(500_000)}`] },
  }));
  add('names and UPN as bytes that are not UTF-8', 'user', `Synth Bytes ${run}`, (c) => {
    const { userprincipalname: _upn, ...rest } = base(c);
    return {
      attributes: rest,
      binaryAttributes: {
        displayname: [Buffer.from([0xff, 0xfe, 0x41, 0xc3, 0x28, 0xa0, 0xa1])],
        givenname: [Buffer.from([0xe2, 0x28, 0xa1])],
        sn: [Buffer.from([0xf0, 0x28, 0x8c, 0x28])],
        userprincipalname: [Buffer.concat([Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80]), Buffer.from(`@${forest}`)])],
        mail: [Buffer.from([0x80, 0x40, 0x81])],
      },
    };
  });
  add('lone surrogates, NUL and bidi overrides in strings', 'user', `Synth Surrogates ${run}`, (c) => ({
    attributes: { ...base(c), displayname: ['\ud800\udfff\udc00lone\u0000nul\u202e'], givenname: ['\u0000'], sn: ['\ufffe\uffff'], title: ['\u0085\u2028'] },
  }));
  add('no attributes at all (no cn, sAMAccountName, UPN, userAccountControl)', 'user', `Synth Empty ${run}`, () => ({ attributes: {} }));
  add('malformed DN (unescaped separators, empty RDNs)', 'user', `Synth Bad DN ${run}`, () => ({ dn: `CN=a,b=,,=c,+,${ou}` }));
  add('empty DN', 'user', `Synth Empty DN ${run}`, () => ({ dn: '' }));
  add('userAccountControl not a number, 3 UPN values', 'user', `Synth UAC ${run}`, (c) => ({
    attributes: {
      ...base(c),
      useraccountcontrol: ['not-a-number'],
      userprincipalname: [`a.${run}@${forest}`, `b.${run}@${forest}`, `c.${run}@${forest}`],
    },
  }));
  add('exact duplicate proxyAddresses, three primaries', 'user', `Synth Proxies ${run}`, (c) => ({
    attributes: {
      ...base(c),
      proxyaddresses: [`SMTP:p.${run}@${forest}`, `SMTP:p.${run}@${forest}`, `SMTP:q.${run}@${forest}`, `SMTP:r.${run}@${forest}`, 'smtp:', 'SMTP:'],
    },
  }));
  add('ms-DS-ConsistencyGuid of 3 bytes (not a GUID)', 'user', `Synth Anchor ${run}`, () => ({
    binaryAttributes: { 'ms-ds-consistencyguid': [Buffer.from([1, 2, 3])] },
  }));
  add('group with 10,000 members nobody knows', 'group', `Synth Members ${run}`, () => ({
    members: Array.from({ length: 10_000 }, (_, i): DnRef => ({ guid: guidOf(run, `member ${i}`), dn: `CN=m${i},${ou}` })),
  }));
  add('group that is its own member', 'group', `Synth Self ${run}`, (c) => ({ members: [{ guid: c.event.objectGuid, dn: c.event.dn }] }));
  add('tombstone of an object never synced', 'user', `Synth Tombstone ${run}`, () => ({ kind: 'TOMBSTONE', lastKnownParent: ou }));
  add('objectClass OTHER', 'user', `Synth Other ${run}`, () => ({ objectClass: 'OTHER' }));
  add('attribute names with NUL, empty and 10,000-character names', 'user', `Synth Names ${run}`, (c) => ({
    attributes: { ...base(c), '': ['empty name'], 'display\u0000name': ['nul in name'], ['a'.repeat(10_000)]: ['long name'] },
  }));
  return cases;
}

/** LDAP_SERVER_TREE_DELETE_OID: an object and its subtree in one request. */
class TreeDelete extends Control {
  constructor() {
    super('1.2.840.113556.1.4.805', { critical: true });
  }
}

/** Delete `dn` and everything under it (tree delete, else leaves first). True when it is gone. */
export async function deleteSubtree(client: Client, dn: string): Promise<boolean> {
  try {
    await client.del(dn, [new TreeDelete()]);
    return true;
  } catch {
    // leaves first, below
  }
  const { searchEntries } = await client.search(dn, { scope: 'sub', filter: '(objectClass=*)', attributes: ['distinguishedName'] }).catch(() => ({ searchEntries: [] }));
  const dns = searchEntries.map((e) => String(e.distinguishedName ?? e.dn)).sort((a, b) => b.split(/(?<!\\),/).length - a.split(/(?<!\\),/).length);
  for (const d of dns) await client.del(d).catch(() => undefined);
  return client
    .search(dn, { scope: 'base', filter: '(objectClass=*)', attributes: ['dn'] })
    .then(() => false)
    .catch(() => true);
}
