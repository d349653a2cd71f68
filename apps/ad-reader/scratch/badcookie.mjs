import { readFileSync } from 'node:fs';
import { LdapConnection } from '../dist/ldap/ldap-connection.js';
import { pullDelta, baselineCookie } from '../dist/read/delta-pull.js';
import { createLogger } from '@canopy/logger';
const S = process.env.HOME + '/.local/state/canopy-stack/forests/corp';
const log = createLogger({ name: 'p', level: 'warn' });
const conn = new LdapConnection({ url: 'ldaps://127.0.0.2:636', startTls: false, allowInsecure: false, timeout: 30000, pageSize: 1000, bindDn: 'svc-canopy@corp.example.test', bindPassword: { reveal: () => readFileSync(S + '/sync.password', 'utf8').trim() }, caFile: S + '/ca.pem' }, log);
const nc = 'DC=corp,DC=example,DC=test';
const good = await baselineCookie(conn, nc);
console.log('good cookie', good.length, good.subarray(0, 24).toString('hex'));
for (const [name, c] of [['garbage', Buffer.from('not a cookie at all')], ['truncated', good.subarray(0, 40)], ['flipped', Buffer.from(good.map((b, i) => i > 30 && i < 60 ? b ^ 0xff : b))]]) {
  try { const r = await pullDelta(conn, nc, c); console.log(name, 'accepted: entries', r.entries); } catch (e) { console.log(name, 'ERR', e.name, e.type, e.message); }
}
await conn.close();
