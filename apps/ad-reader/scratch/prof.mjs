import { readFileSync } from 'node:fs';
import { LdapConnection } from '../dist/ldap/ldap-connection.js';
import { ObjectReader } from '../dist/read/object-reader.js';
import { buildEvent } from '../dist/read/snapshot-builder.js';
import { encodeEvent } from '../dist/publish/event-publisher.js';
import { createLogger } from '@canopy/logger';
const S = process.env.HOME + '/.local/state/canopy-stack/forests/corp';
const log = createLogger({ name: 'p', level: 'debug' });
const conn = new LdapConnection({ url: 'ldaps://127.0.0.2:636', startTls: false, allowInsecure: false, timeout: 30000, pageSize: 1000, bindDn: 'svc-canopy@corp.example.test', bindPassword: { reveal: () => readFileSync(S + '/sync.password', 'utf8').trim() }, caFile: S + '/ca.pem' }, log);
const r = new ObjectReader(conn, { extraAttributes: [], batchSize: 100 }, log);
let t = Date.now(), n = 0, tb = 0, te = 0;
for await (const page of r.readAll('DC=corp,DC=example,DC=test')) {
  const t1 = Date.now(); console.log('page', page.length, 'ldap ms', t1 - t);
  const evs = page.map(e => buildEvent(e, { forest: 'x', domain: 'd', readerId: 'r', readAt: new Date(), origin: 'FULL', cycleId: null })).filter(Boolean);
  const t2 = Date.now(); tb += t2 - t1;
  for (const e of evs) encodeEvent(e, 1);
  te += Date.now() - t2; n += evs.length; t = Date.now();
}
console.log('objects', n, 'build ms', tb, 'encode ms', te);
await conn.close();
