import { guidToString, type AdObjectEvent } from '@canopy/contracts';
import { seededDirectory } from '@canopy/stack';
import type { SpawnedService } from '@canopy/test-kit';
import { testNamespace } from '@canopy/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector, Directory, ensureDeletedObjectsReadable, fullReadLine, readerEnv, runId, spawnReader, stack } from './support/harness.js';

// Integration: a real reader process against the stack's corp forest (Samba AD DC) and Kafka 4.
const run = runId();
const forest = `adr-ev-${run}`;
const namespace = testNamespace('ad-reader-events');
const { info, corp } = stack();
let reader: SpawnedService;
let events: Collector;
let dir: Directory;

const lower = (s: string) => s.toLowerCase();
const settle = (ms = 2_000) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  ensureDeletedObjectsReadable(corp, info);
  events = await new Collector(info, forest, namespace).start();
  reader = await spawnReader(readerEnv(forest, corp, namespace), `r1-${run}`);
  await events.waitFor('the first full read', () => fullReadLine(reader.lines), 120_000);
  dir = await new Directory(corp, `OU=adr-${run},${corp.baseDn}`).open();
}, 180_000);

afterAll(async () => {
  await reader?.stop('SIGTERM');
  (await import('node:fs')).writeFileSync(`/tmp/${forest}.log`, reader?.lines.join('\n') ?? '');
  await dir?.cleanup();
  await events?.stop();
});

/** Wait until exactly `n` events of `guid` exist, then return the last. */
async function nth(guid: string, n: number, what: string): Promise<AdObjectEvent> {
  await events.waitFor(`${what} (event #${n} of ${guid})`, () => events.of(guid).length >= n, 20_000);
  return events.of(guid)[n - 1]!;
}

describe('ad-reader against a Samba forest', () => {
  it('full read: every in-scope object as a FULL snapshot; the >5,000-member group complete (range retrieval); no computers', async () => {
    const line = fullReadLine(reader.lines)!;
    const fullEvents = () => events.events.filter((e) => e.event.origin === 'FULL');
    await events.waitFor('every full-read event consumed', () => fullEvents().length >= line.objects);
    await new Promise((r) => setTimeout(r, 500));
    const full = fullEvents();
    expect(full.length).toBe(line.objects);
    expect(full.every((e) => e.event.kind === 'SNAPSHOT' && e.event.cycleId?.startsWith('full-'))).toBe(true);
    const model = seededDirectory(corp);
    const large = full.find((e) => lower(e.event.dn) === lower(model.largeGroup.dn))!.event;
    expect(large.objectClass).toBe('GROUP');
    expect(large.members!.length).toBe(model.largeGroup.members.length);
    expect(large.members!.length).toBeGreaterThan(5_000);
    expect(new Set(large.members!.map((m) => lower(m.dn)))).toEqual(new Set(model.largeGroup.members.map(lower)));
    expect(large.members!.every((m) => m.guid.length === 16)).toBe(true);
    const dns = new Set(full.map((e) => lower(e.event.dn)));
    for (const u of model.users.slice(0, 50)) expect(dns.has(lower(u.dn))).toBe(true);
    expect(full.some((e) => e.event.attributes.objectclass?.includes('computer'))).toBe(false);
    expect(full.filter((e) => e.event.objectClass === 'CONTACT').length).toBe(model.contacts.length);
    console.log(`[ad-reader] full read: ${line.objects} objects in ${line.seconds.toFixed(1)} s = ${Math.round(line.objectsPerSecond)} objects/s`);
  });

  it('create, modify, rename, move, disable, delete and restore each give exactly the expected event', async () => {
    const sub = await dir.addOu('moved');
    const dn = await dir.addUser('Ada Lovelace', { givenName: 'Ada', sn: 'Lovelace', title: 'Analyst' });
    const guid = await dir.guidOf(dn);
    const created = await nth(guid, 1, 'create');
    expect(created).toMatchObject({ kind: 'SNAPSHOT', origin: 'DELTA', objectClass: 'USER', forest, domain: corp.name });
    expect(lower(created.dn)).toBe(lower(dn));
    expect(created.attributes.title).toEqual(['Analyst']);
    expect(created.attributes.givenname).toEqual(['Ada']);
    expect(guidToString(created.binaryAttributes.objectguid![0]!)).toBe(guid);
    expect(created.binaryAttributes.objectsid![0]!.length).toBeGreaterThan(8);

    await dir.replace(dn, 'title', ['Engineer']);
    const modified = await nth(guid, 2, 'modify');
    expect(modified.attributes.title).toEqual(['Engineer']);
    expect(modified.attributes.givenname).toEqual(['Ada']); // whole object, not just the change

    const renamed = dir.dn('CN=Ada King');
    await dir.rename(dn, renamed);
    const r = await nth(guid, 3, 'rename');
    expect(lower(r.dn)).toBe(lower(renamed));
    expect(r.attributes.title).toEqual(['Engineer']);

    const moved = dir.dn('CN=Ada King', sub);
    await dir.rename(renamed, moved);
    const m = await nth(guid, 4, 'move');
    expect(lower(m.dn)).toBe(lower(moved));

    await dir.replace(moved, 'userAccountControl', ['514']);
    const disabled = await nth(guid, 5, 'disable');
    expect(Number(disabled.attributes.useraccountcontrol![0]) & 2).toBe(2);

    await dir.del(moved);
    const tomb = await nth(guid, 6, 'delete');
    expect(tomb.kind).toBe('TOMBSTONE');
    expect(tomb.objectClass).toBe('USER');
    expect(lower(tomb.lastKnownParent ?? '')).toBe(lower(sub));
    expect(tomb.dn).toMatch(/Deleted Objects/i);

    const restoredDn = dir.dn('CN=Ada Restored', sub);
    await dir.restore(guid, restoredDn);
    const restored = await nth(guid, 7, 'restore');
    expect(restored.kind).toBe('SNAPSHOT');
    expect(lower(restored.dn)).toBe(lower(restoredDn));

    await settle();
    const all = events.of(guid);
    expect(all.map((e) => e.kind)).toEqual(['SNAPSHOT', 'SNAPSHOT', 'SNAPSHOT', 'SNAPSHOT', 'SNAPSHOT', 'TOMBSTONE', 'SNAPSHOT']);
    expect(all.every((e) => e.origin === 'DELTA')).toBe(true);
  });

  it('inetOrgPerson, contacts and groups; membership changes re-emit the members added and removed', async () => {
    const person = await dir.addUser('Grace Hopper', { mail: 'grace@corp.example.test' }, dir.ou, 'inetOrgPerson');
    const contact = await dir.addContact('Partner Contact', { mail: 'partner@example.org' });
    const group = await dir.addGroup('GG-Adr-Team');
    const [pg, cg, gg] = await Promise.all([dir.guidOf(person), dir.guidOf(contact), dir.guidOf(group)]);
    expect((await nth(pg, 1, 'person')).objectClass).toBe('INET_ORG_PERSON');
    expect((await nth(cg, 1, 'contact')).objectClass).toBe('CONTACT');
    const g1 = await nth(gg, 1, 'group');
    expect(g1.objectClass).toBe('GROUP');
    expect(g1.members).toEqual([]);

    await dir.addValues(group, 'member', [person, contact]);
    const g2 = await nth(gg, 2, 'members added');
    expect(new Set(g2.members!.map((x) => guidToString(x.guid)))).toEqual(new Set([pg, cg]));
    const p2 = await nth(pg, 2, 'added member re-read');
    expect(p2.memberOf.map((x) => guidToString(x.guid))).toEqual([gg]);
    expect((await nth(cg, 2, 'added contact re-read')).memberOf.map((x) => guidToString(x.guid))).toEqual([gg]);

    await dir.removeValues(group, 'member', [person]);
    const g3 = await nth(gg, 3, 'member removed');
    expect(g3.members!.map((x) => guidToString(x.guid))).toEqual([cg]);
    const p3 = await nth(pg, 3, 'removed member re-read');
    expect(p3.memberOf).toEqual([]);
    await settle();
    expect(events.of(cg)).toHaveLength(2); // the contact's membership did not change the second time
    expect(events.of(gg)).toHaveLength(3);
  });

  it('a change to the large group arrives with every member', async () => {
    const model = seededDirectory(corp);
    const extra = await dir.addUser('Large Group Joiner');
    const lg = await dir.guidOf(model.largeGroup.dn);
    const before = events.of(lg).length;
    await dir.addValues(model.largeGroup.dn, 'member', [extra]);
    try {
      const ev = await nth(lg, before + 1, 'large group delta');
      expect(ev.origin).toBe('DELTA');
      expect(ev.members!.length).toBe(model.largeGroup.members.length + 1);
    } finally {
      await dir.removeValues(model.largeGroup.dn, 'member', [extra]);
    }
  });

  it('non-UTF-8 values and binary attributes arrive as bytes', async () => {
    const consistency = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const dn = await dir.addUser('Binary Bob', {});
    await dir.replace(dn, 'mS-DS-ConsistencyGuid', [consistency]);
    await dir.replace(dn, 'registeredAddress', [Buffer.from([0xff, 0xfe, 0x41, 0x00])]);
    const guid = await dir.guidOf(dn);
    const ev = await events.waitFor('binary values', () => events.of(guid).find((e) => e.binaryAttributes.registeredaddress));
    expect(ev.binaryAttributes['ms-ds-consistencyguid']).toEqual([consistency]);
    expect(ev.binaryAttributes.registeredaddress).toEqual([Buffer.from([0xff, 0xfe, 0x41, 0x00])]);
    expect(ev.attributes.registeredaddress).toBeUndefined();
  });

  it('an oversized object is refused with a READER FAILED result, and the stream goes on', async () => {
    const big = await dir.addUser('Huge Photo');
    const guid = await dir.guidOf(big);
    await nth(guid, 1, 'created');
    await dir.replace(big, 'jpegPhoto', [Buffer.alloc(500_000, 0xd8), Buffer.alloc(500_000, 0xd9)]);
    const result = await events.waitFor('a READER FAILED result', () =>
      events.results.find((r) => r.objectGuid && guidToString(r.objectGuid) === guid && r.stage === 'READER'),
    );
    expect(result.outcome).toBe('FAILED');
    expect(result.reason).toMatch(/too large/);
    const after = await dir.addUser('After Huge');
    const ag = await dir.guidOf(after);
    await nth(ag, 1, 'the next change');
    expect(events.of(guid)).toHaveLength(1);
  });

  it('control commands: PAUSE/RESUME, PROVISION by DN and GUID, bad targets, FULL_SYNC', async () => {
    const dn = await dir.addUser('Command Carl', { title: 'one' });
    const guid = await dir.guidOf(dn);
    await nth(guid, 1, 'created');

    const pause = await events.command({ command: 'PAUSE' });
    await events.waitFor('PAUSE ack', () => events.acks.find((a) => a.commandId === pause && a.status === 'COMPLETED'));
    await dir.replace(dn, 'title', ['two']);
    await settle(2_500);
    expect(events.of(guid)).toHaveLength(1);
    const resume = await events.command({ command: 'RESUME' });
    await events.waitFor('RESUME ack', () => events.acks.find((a) => a.commandId === resume && a.status === 'COMPLETED'));
    expect((await nth(guid, 2, 'after resume')).attributes.title).toEqual(['two']);

    const byDn = await events.command({ command: 'PROVISION', target: dn });
    const ackDn = await events.waitFor('PROVISION ack', () => events.acks.find((a) => a.commandId === byDn && a.status !== 'ACCEPTED'));
    expect(ackDn).toMatchObject({ status: 'COMPLETED', stage: 'ad-reader' });
    expect((await nth(guid, 3, 'provision by DN')).origin).toBe('PROVISION');
    const byGuid = await events.command({ command: 'PROVISION', target: guid });
    await events.waitFor('PROVISION by GUID ack', () => events.acks.find((a) => a.commandId === byGuid && a.status === 'COMPLETED'));
    expect((await nth(guid, 4, 'provision by GUID')).origin).toBe('PROVISION');

    const missing = await events.command({ command: 'PROVISION', target: dir.dn('CN=Nobody Here') });
    expect((await events.waitFor('missing ack', () => events.acks.find((a) => a.commandId === missing))).status).toBe('FAILED');
    const garbage = await events.command({ command: 'PROVISION', target: 'not-a-target' });
    expect((await events.waitFor('garbage ack', () => events.acks.find((a) => a.commandId === garbage))).status).toBe('REJECTED');
    const otherForest = await events.command({ command: 'PROVISION', target: dn, forest: 'some-other-forest' });

    const before = events.events.filter((e) => e.event.origin === 'FULL').length;
    const full = await events.command({ command: 'FULL_SYNC' });
    await events.waitFor('FULL_SYNC accepted', () => events.acks.find((a) => a.commandId === full && a.status === 'ACCEPTED'));
    const done = await events.waitFor('FULL_SYNC completed', () => events.acks.find((a) => a.commandId === full && a.status === 'COMPLETED'), 120_000);
    expect(Number(done.details.objects)).toBeGreaterThan(1_000);
    await events.waitFor('second full read on Kafka', () => events.events.filter((e) => e.event.origin === 'FULL').length >= before + Number(done.details.objects), 30_000);
    expect(events.acks.find((a) => a.commandId === otherForest)).toBeUndefined();
  }, 240_000);

  it('a cookie the DC rejects triggers a full read, recorded as a READER result', async () => {
    expect(await reader.stop('SIGTERM')).toBe(0);
    await events.writeCheckpoint({
      forest,
      namingContext: corp.baseDn,
      cookie: Buffer.from('not a DirSync cookie'),
      highestUsn: 0,
      fencingToken: 0,
      readerId: 'ad-reader-test',
      fullSyncCompletedAt: new Date(),
      savedAt: new Date(),
    });
    const fullBefore = new Set(events.events.filter((e) => e.event.origin === 'FULL').map((e) => e.event.cycleId));
    reader = await spawnReader(readerEnv(forest, corp, namespace), `r2-${run}`);
    const result = await events.waitFor('a stale-cookie result', () => events.results.find((r) => r.error?.type === 'Ldap.StaleCookie'), 60_000);
    expect(result).toMatchObject({ stage: 'READER', outcome: 'FAILED', forest });
    expect(result.reason).toMatch(/full read started/);
    await events.waitFor('a new full read', () => fullReadLine(reader.lines), 120_000);
    const cycles = new Set(events.events.filter((e) => e.event.origin === 'FULL').map((e) => e.event.cycleId));
    expect(cycles.size).toBeGreaterThan(fullBefore.size);
  }, 240_000);

  it('serves readiness (active) and the canopy_ad_reader_* metrics', async () => {
    const ready = (await (await fetch(`${reader.url}/readyz`)).json()) as { components: Record<string, { detail?: string }> };
    expect(ready.components.role!.detail).toMatch(/^active/);
    const text = await (await fetch(`${reader.url}/metrics`)).text();
    for (const name of [
      'canopy_ad_reader_objects_read_total',
      'canopy_ad_reader_events_produced_total',
      'canopy_ad_reader_delta_pull_duration_seconds_bucket',
      'canopy_ad_reader_cookie_age_seconds',
      'canopy_ad_reader_lease_holder 1',
      'canopy_ad_reader_notifications_total',
      'canopy_ad_reader_ldap_reconnects_total',
    ]) {
      expect(text).toContain(name);
    }
    // The password never reaches the logs.
    const secret = (await import('node:fs')).readFileSync(corp.syncAccount.passwordFile, 'utf8').trim();
    expect(reader.lines.join('\n')).not.toContain(secret);
  });
});
