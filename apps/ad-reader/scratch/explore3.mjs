import { Client, Control, BerWriter } from 'ldapts';
class DirSync extends Control {
  constructor(flags, cookie) { super('1.2.840.113556.1.4.841', { critical: true }); this.flags = flags; this.cookie = cookie ?? Buffer.alloc(0); this.more = false; }
  writeControl(w) { const x = new BerWriter(); x.startSequence(); x.writeInt(this.flags); x.writeInt(0x100000); x.writeBuffer(this.cookie, 4); x.endSequence(); w.writeBuffer(x.buffer, 4); }
  parseControl(r) { r.readSequence(); this.more = r.readInt() !== 0; r.readInt(); this.cookie = r.readString(4, true) ?? Buffer.alloc(0); }
}
class Ext extends Control { constructor() { super('1.2.840.113556.1.4.529'); } }
class ShowDel extends Control { constructor() { super('1.2.840.113556.1.4.417'); } }
const base = 'DC=scratch,DC=example,DC=test';
const admin = new Client({ url: 'ldaps://127.0.0.42', tlsOptions: { rejectUnauthorized: false } });
await admin.bind('Administrator@scratch.example.test', 'Adr-Scratch-Pw-9!x');
const c = new Client({ url: 'ldaps://127.0.0.42', tlsOptions: { rejectUnauthorized: false } });
await c.bind('Administrator@scratch.example.test', 'Adr-Scratch-Pw-9!x');
const filters = { star: '(objectClass=*)', user: '(objectClass=user)', scoped: '(&(|(objectClass=user)(objectClass=group)(objectClass=contact))(!(objectClass=computer)))' };
const run = async (cookie, flags, attrs, filter, extra = []) => {
  let all = []; let ctl;
  do { ctl = new DirSync(flags, cookie);
    const r = await c.search(base, { filter, scope: 'sub', attributes: attrs, explicitBufferAttributes: ['objectGUID'] }, [ctl, new Ext(), ...extra]);
    all.push(...r.searchEntries); cookie = ctl.cookie; } while (ctl.more);
  return { all, cookie };
};
const cookies = {};
for (const [k, f] of Object.entries(filters)) cookies[k] = (await run(undefined, 0, ['objectGUID'], f)).cookie;
const ou = `OU=y${Date.now()},${base}`;
await admin.add(ou, { objectClass: ['organizationalUnit'] });
await admin.add(`CN=d1,${ou}`, { objectClass: ['user'], sAMAccountName: 'd1x' + Date.now() % 100000 });
for (const [k, f] of Object.entries(filters)) cookies[k] = (await run(cookies[k], 0x80000000, [], f)).cookie;
await admin.del(`CN=d1,${ou}`);
for (const [k, f] of Object.entries(filters)) {
  const r = await run(cookies[k], 0x80000000, [], f);
  console.log(k, JSON.stringify(r.all.map(e => ({ dn: e.dn, isDeleted: e.isDeleted, lkp: e.lastKnownParent, oc: e.objectClass, keys: Object.keys(e).join(',') }))));
  const r2 = await run(cookies[k], 0x80000000, [], f, [new ShowDel()]);
  console.log(k, '+showdeleted', r2.all.length);
}
// full read of deleted object
const del = await c.search(base, { filter: '(&(isDeleted=TRUE)(objectClass=user))', scope: 'sub', attributes: ['*'] }, [new ShowDel(), new Ext()]);
console.log('tombstones visible', del.searchEntries.length, del.searchEntries.slice(-1).map(e => Object.keys(e).join(',')));
await admin.unbind(); await c.unbind();
