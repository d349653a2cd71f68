import { Client, Control, BerWriter, Change, Attribute } from 'ldapts';
class DirSync extends Control {
  constructor(flags, cookie) { super('1.2.840.113556.1.4.841', { critical: true }); this.flags = flags; this.cookie = cookie ?? Buffer.alloc(0); this.more = false; }
  writeControl(w) { const x = new BerWriter(); x.startSequence(); x.writeInt(this.flags); x.writeInt(0x100000); x.writeBuffer(this.cookie, 4); x.endSequence(); w.writeBuffer(x.buffer, 4); }
  parseControl(r) { r.readSequence(); this.more = r.readInt() !== 0; r.readInt(); this.cookie = r.readString(4, true) ?? Buffer.alloc(0); }
}
class Ext extends Control { constructor() { super('1.2.840.113556.1.4.529'); } }
const base = 'DC=scratch,DC=example,DC=test';
const admin = new Client({ url: 'ldaps://127.0.0.42', tlsOptions: { rejectUnauthorized: false } });
await admin.bind('Administrator@scratch.example.test', 'Adr-Scratch-Pw-9!x');
const c = new Client({ url: 'ldaps://127.0.0.42', tlsOptions: { rejectUnauthorized: false } });
await c.bind('svc-canopy@scratch.example.test', 'Svc-Scratch-Pw-9!x');
const filter = '(&(|(objectClass=user)(objectClass=group)(objectClass=contact))(!(objectClass=computer)))';
const run = async (cookie, flags, attrs, ext) => {
  let all = []; let ctl;
  do { ctl = new DirSync(flags, cookie); const ctls = [ctl]; if (ext) ctls.push(new Ext());
    const r = await c.search(base, { filter, scope: 'sub', attributes: attrs, explicitBufferAttributes: ['objectGUID'] }, ctls);
    all.push(...r.searchEntries); cookie = ctl.cookie; } while (ctl.more);
  return { all, cookie };
};
const ou = `OU=x${Date.now()},${base}`;
let { all, cookie } = await run(undefined, 0, ['objectGUID'], false);
console.log('baseline', all.length, 'cookie', cookie.length);
await admin.add(ou, { objectClass: ['organizationalUnit'] });
await admin.add(`CN=u1,${ou}`, { objectClass: ['user'], sAMAccountName: 'u1x' + Date.now() % 100000 });
await admin.add(`CN=u2,${ou}`, { objectClass: ['user'], sAMAccountName: 'u2x' + Date.now() % 100000 });
await admin.add(`CN=g1,${ou}`, { objectClass: ['group'], member: [`CN=u1,${ou}`] });
await admin.add(`CN=c1,${ou}`, { objectClass: ['contact'], mail: 'c1@x' });
let r = await run(cookie, 0x80000000, [], true); cookie = r.cookie;
console.log('after create:', JSON.stringify(r.all.map(e => ({ dn: e.dn, keys: Object.keys(e) }))));
console.log(JSON.stringify(r.all.find(e => e.dn.includes('CN=g1')), (k, v) => k === 'objectGUID' ? '..' : v).slice(0, 600));
await admin.modify(`CN=g1,${ou}`, [new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [`CN=u2,${ou}`] }) }), new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [`CN=u1,${ou}`] }) })]);
r = await run(cookie, 0x80000000, [], true); cookie = r.cookie;
console.log('after member change:', JSON.stringify(r.all, (k, v) => (k === 'objectGUID' ? '..' : v)));
await admin.del(`CN=u1,${ou}`);
r = await run(cookie, 0x80000000, [], true); cookie = r.cookie;
await admin.modify(`CN=u2,${ou}`, new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: ['boss'] }) }));
let r2 = await run(cookie, 0x80000000, ['objectGUID','member','isDeleted'], true);
console.log('title change w/ limited attrs:', JSON.stringify(r2.all, (k, v) => (k === 'objectGUID' ? '..' : v)));
r2 = await run(cookie, 0x80000000, [], true); cookie = r2.cookie;
console.log('title change w/ all attrs:', JSON.stringify(r2.all, (k, v) => (k === 'objectGUID' ? '..' : v)));
console.log('after delete:', JSON.stringify(r.all, (k, v) => (k === 'objectGUID' ? '..' : v)).slice(0, 1500));
const full = await c.search(ou, { filter, scope: 'sub', attributes: ['*'] }, [new Ext()]);
console.log('full u2 keys', Object.keys(full.searchEntries.find(e => e.dn.includes('CN=u2'))));
console.log('memberOf', full.searchEntries.find(e => e.dn.includes('CN=u2')).memberOf);
await admin.unbind(); await c.unbind();
