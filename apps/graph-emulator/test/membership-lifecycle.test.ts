import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../src/main.js';
import { call, graphClient, newGroup, newUser, start, tokenFor } from './helpers.js';

let em: Emulator;
let token: string;
/** Move the emulator's clock; tokens issued before may expire, so take a fresh one. */
const advance = async (ms: number) => {
  (em.clock as { advance(ms: number): number }).advance(ms);
  token = await tokenFor(em);
};

beforeAll(async () => {
  em = await start({ domains: ['contoso.example'] });
  token = await tokenFor(em);
});
afterAll(async () => em?.close());

const ref = (id: string) => ({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${id}` });

describe('group membership', () => {
  it('adds with $ref, lists members and memberOf, refuses duplicates, removes with $ref', async () => {
    const client = graphClient(em, token);
    const g = await client.api('/groups').post(newGroup());
    const u = await client.api('/users').post(newUser(em));
    const inner = await client.api('/groups').post(newGroup());
    await client.api(`/groups/${g.id}/members/$ref`).post(ref(u.id));
    await client.api(`/groups/${g.id}/members/$ref`).post(ref(inner.id));
    const members = await client.api(`/groups/${g.id}/members`).get();
    expect(members.value.map((m: { id: string; '@odata.type': string }) => [m['@odata.type'], m.id])).toEqual([
      ['#microsoft.graph.user', u.id],
      ['#microsoft.graph.group', inner.id],
    ]);
    const memberOf = await client.api(`/users/${u.id}/memberOf`).get();
    expect(memberOf.value.map((x: { id: string }) => x.id)).toEqual([g.id]);
    const dup = await call(em, token, 'POST', `/groups/${g.id}/members/$ref`, ref(u.id));
    expect(dup.status).toBe(400);
    expect(dup.body.error.message).toBe("One or more added object references already exist for the following modified properties: 'members'.");
    const missing = await call(em, token, 'POST', `/groups/${g.id}/members/$ref`, ref('00000000-0000-0000-0000-00000000abcd'));
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('Request_ResourceNotFound');
    await client.api(`/groups/${g.id}/members/${u.id}/$ref`).delete();
    expect((await client.api(`/groups/${g.id}/members`).get()).value).toHaveLength(1);
    const again = await call(em, token, 'DELETE', `/groups/${g.id}/members/${u.id}/$ref`);
    expect(again.status).toBe(404);
  });

  it('PATCH with members@odata.bind takes at most 20 references', async () => {
    const client = graphClient(em, token);
    const g = await client.api('/groups').post(newGroup());
    const users: string[] = [];
    for (let i = 0; i < 21; i++) users.push((await client.api('/users').post(newUser(em))).id);
    const bind = (ids: string[]) => ({ 'members@odata.bind': ids.map((id) => `https://graph.microsoft.com/v1.0/directoryObjects/${id}`) });
    const tooMany = await call(em, token, 'PATCH', `/groups/${g.id}`, bind(users));
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.code).toBe('Request_BadRequest');
    expect((await client.api(`/groups/${g.id}/members`).get()).value).toHaveLength(0);
    expect((await call(em, token, 'PATCH', `/groups/${g.id}`, bind(users.slice(0, 20)))).status).toBe(204);
    expect((await client.api(`/groups/${g.id}/members`).top(999).get()).value).toHaveLength(20);
    // all or nothing: one already-member reference fails the whole request
    const mixed = await call(em, token, 'PATCH', `/groups/${g.id}`, bind([users[20]!, users[0]!]));
    expect(mixed.status).toBe(400);
    expect((await client.api(`/groups/${g.id}/members`).top(999).get()).value).toHaveLength(20);
  });

  it('replication lag: a member add right after create is 404 until the object has replicated', async () => {
    em.configure({ replicationLagMs: 2000 });
    try {
      const client = graphClient(em, token);
      const g = await call(em, token, 'POST', '/groups', newGroup());
      const u = await call(em, token, 'POST', '/users', newUser(em));
      expect(u.status).toBe(201);
      const add = await call(em, token, 'POST', `/groups/${g.body.id}/members/$ref`, ref(u.body.id));
      expect(add.status).toBe(404);
      expect(add.body.error.code).toBe('Request_ResourceNotFound');
      expect((await call(em, token, 'GET', `/users/${u.body.id}`)).status).toBe(404);
      const byFilter = await client.api('/users').filter(`userPrincipalName eq '${u.body.userPrincipalName}'`).get();
      expect(byFilter.value).toHaveLength(0);
      await advance(2001);
      expect((await call(em, token, 'POST', `/groups/${g.body.id}/members/$ref`, ref(u.body.id))).status).toBe(204);
    } finally {
      em.configure({ replicationLagMs: 0 });
    }
  });
});

describe('update lag', () => {
  it('after a PATCH, reads and filters return the previous values until the change has replicated', async () => {
    const client = graphClient(em, token);
    const u = await client.api('/users').post(newUser(em, { jobTitle: 'Before' }));
    em.configure({ updateLagMs: 1500 });
    try {
      await client.api(`/users/${u.id}`).patch({ jobTitle: 'After' });
      expect((await client.api(`/users/${u.id}`).select('jobTitle').get()).jobTitle).toBe('Before');
      expect((await client.api('/users').filter(`jobTitle eq 'After'`).select('id').get()).value).toEqual([]);
      await advance(1500);
      expect((await graphClient(em, token).api(`/users/${u.id}`).select('jobTitle').get()).jobTitle).toBe('After');
    } finally {
      em.configure({ updateLagMs: 0 });
    }
  });
});

describe('deleted items', () => {
  it('soft-deletes users and groups, restores them with the same id, and purges permanently', async () => {
    const client = graphClient(em, token);
    const u = await client.api('/users').post(newUser(em));
    const g = await client.api('/groups').post(newGroup());
    await client.api(`/groups/${g.id}/members/$ref`).post(ref(u.id));
    await client.api(`/users/${u.id}`).delete();
    await client.api(`/groups/${g.id}`).delete();
    const deletedUsers = await client.api('/directory/deletedItems/microsoft.graph.user').get();
    expect(deletedUsers.value.map((x: { id: string }) => x.id)).toContain(u.id);
    const deletedEntry = deletedUsers.value.find((x: { id: string }) => x.id === u.id);
    expect(deletedEntry.deletedDateTime).toBeTruthy();
    // Entra shows a deleted user's UPN prefixed with its object id until it is restored
    expect(deletedEntry.userPrincipalName).toBe(`${u.id.replace(/-/g, '')}${u.userPrincipalName}`);
    const deletedGroups = await client.api('/directory/deletedItems/microsoft.graph.group').get();
    expect(deletedGroups.value.map((x: { id: string }) => x.id)).toContain(g.id);
    const restored = await client.api(`/directory/deletedItems/${u.id}/restore`).post({});
    expect(restored.id).toBe(u.id);
    expect(restored.userPrincipalName).toBe(u.userPrincipalName);
    await client.api(`/directory/deletedItems/${g.id}/restore`).post({});
    expect((await client.api(`/users/${u.id}`).get()).id).toBe(u.id);
    expect((await client.api(`/groups/${g.id}/members`).get()).value.map((m: { id: string }) => m.id)).toEqual([u.id]);
    await client.api(`/users/${u.id}`).delete();
    await client.api(`/directory/deletedItems/${u.id}`).delete();
    expect((await call(em, token, 'GET', `/directory/deletedItems/${u.id}`)).status).toBe(404);
    expect((await call(em, token, 'POST', `/directory/deletedItems/${u.id}/restore`, {})).status).toBe(404);
  });

  it('a restore that collides with a live UPN is a conflict', async () => {
    const client = graphClient(em, token);
    const body = newUser(em);
    const u = await client.api('/users').post(body);
    await client.api(`/users/${u.id}`).delete();
    const twin = await client.api('/users').post({ ...newUser(em), userPrincipalName: body.userPrincipalName });
    expect(twin.id).not.toBe(u.id);
    const r = await call(em, token, 'POST', `/directory/deletedItems/${u.id}/restore`, {});
    expect(r.status).toBe(400);
    expect(r.body.error.message).toBe('Another object with the same value for property userPrincipalName already exists.');
  });

  it('purges soft-deleted objects after 30 days', async () => {
    const client = graphClient(em, token);
    const u = await client.api('/users').post(newUser(em));
    await client.api(`/users/${u.id}`).delete();
    await advance(29 * 24 * 3600 * 1000);
    expect((await call(em, token, 'GET', `/directory/deletedItems/${u.id}`)).status).toBe(200);
    await advance(1 * 24 * 3600 * 1000 + 1000);
    expect((await call(em, token, 'GET', `/directory/deletedItems/${u.id}`)).status).toBe(404);
  });
});

describe('delta', () => {
  it('users/delta: full round, then changes with @removed changed (restorable) and deleted (gone)', async () => {
    const client = graphClient(em, token);
    const a = await client.api('/users').post(newUser(em));
    const b = await client.api('/users').post(newUser(em));
    // initial round, following nextLinks to the deltaLink
    let page = await client.api('/users/delta').select(['displayName', 'userPrincipalName']).top(5).get();
    const seen = new Set<string>();
    for (;;) {
      for (const x of page.value) seen.add(x.id);
      if (page['@odata.deltaLink']) break;
      page = await client.api(page['@odata.nextLink']).get();
    }
    expect(seen.has(a.id) && seen.has(b.id)).toBe(true);
    const deltaLink = page['@odata.deltaLink'] as string;
    const c = await client.api('/users').post(newUser(em));
    await client.api(`/users/${a.id}`).patch({ jobTitle: 'changed' });
    await client.api(`/users/${b.id}`).delete();
    const next = await client.api(deltaLink).get();
    const byId = new Map(next.value.map((x: { id: string }) => [x.id, x]));
    expect(byId.get(c.id)).toMatchObject({ id: c.id, userPrincipalName: c.userPrincipalName });
    expect(byId.get(a.id)).toMatchObject({ id: a.id });
    expect(byId.get(b.id)).toMatchObject({ '@removed': { reason: 'changed' } });
    expect(next.value).toHaveLength(3);
    await client.api(`/directory/deletedItems/${b.id}`).delete();
    const last = await client.api(next['@odata.deltaLink']).get();
    expect(last.value).toEqual([{ id: b.id, '@removed': { reason: 'deleted' } }]);
    const empty = await client.api(last['@odata.deltaLink']).get();
    expect(empty.value).toEqual([]);
  });

  it('groups/delta with $select=members reports members@delta', async () => {
    const client = graphClient(em, token);
    const g = await client.api('/groups').post(newGroup());
    const u1 = await client.api('/users').post(newUser(em));
    const u2 = await client.api('/users').post(newUser(em));
    await client.api(`/groups/${g.id}/members/$ref`).post(ref(u1.id));
    let page = await client.api('/groups/delta').select(['displayName', 'members']).get();
    while (!page['@odata.deltaLink']) page = await client.api(page['@odata.nextLink']).get();
    await client.api(`/groups/${g.id}/members/$ref`).post(ref(u2.id));
    await client.api(`/groups/${g.id}/members/${u1.id}/$ref`).delete();
    const changes = await client.api(page['@odata.deltaLink']).get();
    const entry = changes.value.find((x: { id: string }) => x.id === g.id);
    expect(entry['members@delta']).toEqual(
      expect.arrayContaining([
        { '@odata.type': '#microsoft.graph.user', id: u2.id },
        { '@odata.type': '#microsoft.graph.user', id: u1.id, '@removed': { reason: 'deleted' } },
      ]),
    );
  });
});
