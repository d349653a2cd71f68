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

function measure(label: string, fn: () => unknown, ms = 2000): number {
  for (let i = 0; i < 2000; i++) fn(); // warm-up (JIT)
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(ms) * 1_000_000n;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 500; i++) fn();
    n += 500;
    now = process.hrtime.bigint();
  }
  const perSec = n / (Number(now - start) / 1e9);
  console.log(`${label.padEnd(52)} ${Math.round(perSec).toLocaleString('en-US').padStart(12)} /s`);
  return perSec;
}

const check = transform(user, rules, ctx);
if (check.kind !== 'op' || check.op.action !== 'UPSERT') throw new Error(`benchmark user did not map: ${JSON.stringify(check)}`);

console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'cpu'}, ${availableParallelism()} cores; single thread (= per core)`);
const u = measure('transform(user, default mappings)', () => transform(user, rules, ctx));
const uRef = measure('reference: JSON.parse(JSON.stringify(user))', () => JSON.parse(JSON.stringify(user)));
const g = measure('transform(group of 50 members, default mappings)', () => transform(group, rules, ctx));
const gRef = measure('reference: JSON.parse(JSON.stringify(group))', () => JSON.parse(JSON.stringify(group)));
console.log(`ratio user:  transform costs ${(uRef / u).toFixed(2)}x a JSON round trip of the same object`);
console.log(`ratio group: transform costs ${(gRef / g).toFixed(2)}x a JSON round trip of the same object`);
