/**
 * Micro-benchmark of the transformer's pure core with Cloud Sync's default mappings.
 * Run: node --experimental-transform-types --conditions=@canopy/source libs/sync-rules/bench/run.mjs
 * (or `npx nx run sync-rules:bench`). Single thread, so objects/s is per core.
 *
 * Reference loop in the same process: JSON.parse(JSON.stringify(event)) of the same object,
 * i.e. the cost of merely copying the snapshot once; the ratio says how many such copies one
 * transform costs, which is stable across machines where the absolute figure is not.
 */
import { availableParallelism, cpus } from 'node:os';
import { compileRules, transform } from '../src/index.js';
import { adEvent, dnRef } from '../src/fixtures.js';

const rules = compileRules({
  forest: 'corp.example.test',
  scoping: { ous: { include: ['OU=Staff,DC=corp,DC=example,DC=test', 'OU=Groups,DC=corp,DC=example,DC=test'], exclude: ['OU=Quarantine,DC=corp,DC=example,DC=test'] } },
  upnSuffix: { initialDomain: 'contoso.onmicrosoft.com', verifiedDomains: ['corp.example.test', 'contoso.com'] },
});
const ctx = { configVersion: 1, now: new Date() };
const sid = Buffer.from('010500000000000515000000a065cf7e784b9b5fe77c8770e9030000', 'hex');

const user = adEvent({
  dn: 'CN=Zoë Ångström,OU=Paris,OU=Staff,DC=corp,DC=example,DC=test',
  attributes: {
    objectClass: ['top', 'person', 'organizationalPerson', 'user'],
    cn: 'Zoë Ångström', givenName: 'Zoë', sn: 'Ångström', displayName: 'Zoë Ångström', sAMAccountName: 'zoe.angstrom',
    userPrincipalName: 'zoe.angstrom@corp.example.test', userAccountControl: '512', title: 'Ingénieure', department: 'R&D',
    company: 'Contoso', employeeID: '004711', telephoneNumber: '+33 1 23 45 67 89', mobile: '+33 6 00 00 00 00',
    mail: 'zoe.angstrom@contoso.com', l: 'Paris', co: 'France', postalCode: '75001', streetAddress: '1 rue de Rivoli',
    proxyAddresses: ['SMTP:zoe.angstrom@contoso.com', 'smtp:zoe@contoso.com', 'smtp:zoe@contoso.mail.onmicrosoft.com'],
    whenCreated: '20200123105347.0Z', memberOf: [],
  },
  binary: { objectSid: sid },
});
const group = adEvent({
  dn: 'CN=Paris Staff,OU=Groups,DC=corp,DC=example,DC=test',
  objectClass: 'GROUP',
  attributes: { cn: 'Paris Staff', sAMAccountName: 'Paris Staff', groupType: '-2147483646', description: 'Everyone in Paris' },
  binary: { objectSid: sid },
  members: Array.from({ length: 50 }, (_, i) =>
    dnRef(`CN=User ${i},OU=Paris,OU=Staff,DC=corp,DC=example,DC=test`, `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`),
  ),
});

/** Ops/s of `fn` over one slice of about `ms` milliseconds. */
function slice(fn: () => unknown, ms: number): number {
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(ms) * 1_000_000n;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
    now = process.hrtime.bigint();
  }
  return n / (Number(now - start) / 1e9);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Interleave short slices of the subject and the reference (the dev VM is shared: load drifts
 * during a run), and report medians of the rates and of the per-round ratios.
 */
function compare(label: string, subject: () => unknown, reference: () => unknown, rounds = 15, ms = 150): void {
  for (let i = 0; i < 3000; i++) {
    subject();
    reference();
  }
  const s: number[] = [];
  const r: number[] = [];
  const ratio: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const a = slice(subject, ms);
    const b = slice(reference, ms);
    s.push(a);
    r.push(b);
    ratio.push(b / a);
  }
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US').padStart(10);
  console.log(`${label}`);
  console.log(`  transform                      ${fmt(median(s))} objects/s per core (median of ${rounds} slices; min ${fmt(Math.min(...s))}, max ${fmt(Math.max(...s))})`);
  console.log(`  reference JSON round trip      ${fmt(median(r))} /s`);
  console.log(`  ratio: one transform costs ${median(ratio).toFixed(2)}x one JSON.parse(JSON.stringify()) of the same object`);
}

const check = transform(user, rules, ctx);
if (check.kind !== 'op' || check.op.action !== 'UPSERT') throw new Error(`benchmark user did not map: ${JSON.stringify(check)}`);

console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'cpu'}, ${availableParallelism()} cores; single thread (= per core)`);
compare('user, default mappings', () => transform(user, rules, ctx), () => JSON.parse(JSON.stringify(user)));
compare('group with 50 members, default mappings', () => transform(group, rules, ctx), () => JSON.parse(JSON.stringify(group)));
