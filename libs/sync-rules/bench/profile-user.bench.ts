// Profiling aid: node --cpu-prof --experimental-transform-types --conditions=@canopy/source libs/sync-rules/bench/run.mjs profile-user.bench.ts
import { compileRules, transform } from '../src/index.js';
import { adEvent } from '../src/fixtures.js';

const rules = compileRules({ forest: 'corp.example.test', upnSuffix: { initialDomain: 'contoso.onmicrosoft.com', verifiedDomains: ['corp.example.test'] } });
const user = adEvent({
  dn: 'CN=Zoë Ångström,OU=Paris,OU=Staff,DC=corp,DC=example,DC=test',
  attributes: {
    cn: 'Zoë Ångström', givenName: 'Zoë', sn: 'Ångström', displayName: 'Zoë Ångström', sAMAccountName: 'zoe.angstrom',
    userPrincipalName: 'zoe.angstrom@corp.example.test', userAccountControl: '512', title: 'Ingénieure', department: 'R&D',
    mail: 'zoe.angstrom@contoso.com', l: 'Paris', proxyAddresses: ['SMTP:zoe.angstrom@contoso.com', 'smtp:zoe@contoso.com'],
  },
  binary: { objectSid: Buffer.from('010500000000000515000000a065cf7e784b9b5fe77c8770e9030000', 'hex') },
});
const ctx = { configVersion: 1, now: new Date() };
const end = Date.now() + 4000;
let n = 0;
while (Date.now() < end) {
  for (let i = 0; i < 1000; i++) transform(user, rules, ctx);
  n += 1000;
}
console.log(`${Math.round(n / 4)} transforms/s`);
