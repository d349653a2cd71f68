import { PageIterator } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../src/main.js';
import { call, graphClient, newGroup, newUser, start, tokenFor } from './helpers.js';

let em: Emulator;
let token: string;
const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected the request to fail'); }, (e: { statusCode: number; code: string; message: string }) => e);

beforeAll(async () => {
  em = await start({ domains: ['contoso.example'] });
  token = await tokenFor(em);
});
afterAll(async () => em?.close());

describe('users', () => {
  it('creates, reads by id and by UPN, patches and deletes', async () => {
    const client = graphClient(em, token);
    const body = newUser(em, { onPremisesImmutableId: 'aW1tdXRhYmxlLTE=', givenName: 'Ada' });
    const u = await client.api('/users').post(body);
    expect(u).toMatchObject({ displayName: body.displayName, userPrincipalName: body.userPrincipalName, givenName: 'Ada' });
    expect(u.passwordProfile).toBeUndefined();
    expect((await client.api(`/users/${u.id}`).get()).id).toBe(u.id);
    expect((await client.api(`/users/${encodeURIComponent(u.userPrincipalName)}`).get()).id).toBe(u.id);
    // default property set: onPremisesImmutableId only with $select, as Graph does
    expect(await client.api(`/users/${u.id}`).get()).not.toHaveProperty('onPremisesImmutableId');
    const sel = await client.api(`/users/${u.id}`).select(['id', 'onPremisesImmutableId', 'accountEnabled']).get();
    expect(sel).toMatchObject({ id: u.id, onPremisesImmutableId: 'aW1tdXRhYmxlLTE=', accountEnabled: true });
    await client.api(`/users/${u.id}`).patch({ jobTitle: 'Engineer', mail: `ada@contoso.example` });
    const after = await client.api(`/users/${u.id}`).select(['jobTitle', 'mail', 'proxyAddresses']).get();
    expect(after).toMatchObject({ jobTitle: 'Engineer', mail: 'ada@contoso.example', proxyAddresses: ['SMTP:ada@contoso.example'] });
    await client.api(`/users/${u.id}`).delete();
    expect(await failure(client.api(`/users/${u.id}`).get())).toMatchObject({ statusCode: 404, code: 'Request_ResourceNotFound' });
  });

  it("refuses an unknown property with Graph's message", async () => {
    const r = await call(em, token, 'POST', '/users', newUser(em, { favouriteColour: 'green' }));
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'Request_BadRequest', message: "Property 'favouriteColour' does not exist on type 'microsoft.graph.user'." });
    expect(r.body.error.innerError).toMatchObject({ 'request-id': r.headers.get('request-id'), 'client-request-id': r.headers.get('client-request-id') });
    expect(r.body.error.innerError.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
  });

  it('refuses wrong value types, read-only properties and missing required properties', async () => {
    const wrongType = await call(em, token, 'POST', '/users', newUser(em, { accountEnabled: 'yes' }));
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error.message).toMatch(/expected type 'Edm.Boolean'/);
    const notArray = await call(em, token, 'POST', '/users', newUser(em, { businessPhones: '555' }));
    expect(notArray.body.error.message).toMatch(/'StartArray' node was expected/);
    for (const ro of [{ id: '00000000-0000-0000-0000-000000000001' }, { onPremisesSyncEnabled: true }, { createdDateTime: '2020-01-01T00:00:00Z' }, { proxyAddresses: ['SMTP:a@contoso.example'] }]) {
      const r = await call(em, token, 'POST', '/users', newUser(em, ro));
      expect(r.status, JSON.stringify(ro)).toBe(400);
      expect(r.body.error.message).toBe(`Property '${Object.keys(ro)[0]}' is read-only and cannot be set.`);
    }
    for (const required of ['accountEnabled', 'displayName', 'mailNickname', 'passwordProfile', 'userPrincipalName']) {
      const body = newUser(em);
      delete body[required];
      const r = await call(em, token, 'POST', '/users', body);
      expect(r.status, required).toBe(400);
      expect(r.body.error.message).toBe(`A value is required for property '${required}' of resource 'User'.`);
    }
  });

  it('enforces password complexity and verified UPN domains', async () => {
    const weak = await call(em, token, 'POST', '/users', newUser(em, { passwordProfile: { password: 'password' } }));
    expect(weak.status).toBe(400);
    expect(weak.body.error.message).toBe('The specified password does not comply with password complexity requirements. Please provide a different password.');
    const domain = await call(em, token, 'POST', '/users', newUser(em, { userPrincipalName: 'x@not-verified.example' }));
    expect(domain.status).toBe(400);
    expect(domain.body.error.message).toBe('The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.');
    const custom = await call(em, token, 'POST', '/users', newUser(em, { userPrincipalName: `custom${Date.now()}@contoso.example` }));
    expect(custom.status).toBe(201);
  });

  it('answers conflicts on UPN, proxyAddresses (via mail) and mailNickname', async () => {
    const a = newUser(em, { mail: `shared${Date.now()}@contoso.example` });
    expect((await call(em, token, 'POST', '/users', a)).status).toBe(201);
    const upn = await call(em, token, 'POST', '/users', newUser(em, { userPrincipalName: a.userPrincipalName }));
    expect(upn.status).toBe(400);
    expect(upn.body.error).toMatchObject({ code: 'Request_BadRequest', message: 'Another object with the same value for property userPrincipalName already exists.' });
    const proxy = await call(em, token, 'POST', '/users', newUser(em, { mail: a.mail }));
    expect(proxy.body.error.message).toBe('Another object with the same value for property proxyAddresses already exists.');
    // Users may share a mailNickname (Entra does not require it to be unique; forests share aliases)...
    const sameNick = await call(em, token, 'POST', '/users', newUser(em, { mailNickname: a.mailNickname }));
    expect(sameNick.status).toBe(201);
    // ...unless the tenant is configured to be stricter.
    em.configure({ enforceMailNicknameUniqueness: true });
    try {
      const nick = await call(em, token, 'POST', '/users', newUser(em, { mailNickname: a.mailNickname }));
      expect(nick.body.error.message).toBe('Another object with the same value for property mailNickname already exists.');
    } finally {
      em.configure({ enforceMailNicknameUniqueness: false });
    }
    // Microsoft 365 groups' mailNickname is unique in the organization.
    const g1 = await call(em, token, 'POST', '/groups', { displayName: 'M365 one', mailEnabled: true, securityEnabled: false, groupTypes: ['Unified'], mailNickname: `m365-${Date.now()}` });
    expect(g1.status).toBe(201);
    const g2 = await call(em, token, 'POST', '/groups', { displayName: 'M365 two', mailEnabled: true, securityEnabled: false, groupTypes: ['Unified'], mailNickname: g1.body.mailNickname });
    expect(g2.status).toBe(400); // its mail address (from the nickname) collides first, or the nickname itself
    expect(g2.body.error.message).toMatch(/^Another object with the same value for property (mailNickname|proxyAddresses) already exists\.$/);
    const upper = await call(em, token, 'POST', '/users', newUser(em, { userPrincipalName: String(a.userPrincipalName).toUpperCase().replace(/ONMICROSOFT\.COM$/, 'onmicrosoft.com') }));
    expect(upper.status).toBe(400);
  });
});

describe('groups', () => {
  it('creates security and Microsoft 365 groups, refuses mail-enabled security and distribution groups', async () => {
    const sec = await call(em, token, 'POST', '/groups', newGroup());
    expect(sec.status).toBe(201);
    expect(sec.body).toMatchObject({ mailEnabled: false, securityEnabled: true, groupTypes: [], mail: null });
    const m365 = await call(em, token, 'POST', '/groups', newGroup({ mailEnabled: true, securityEnabled: false, groupTypes: ['Unified'] }));
    expect(m365.status).toBe(201);
    expect(m365.body.mail).toMatch(new RegExp(`@${em.initialDomain}$`));
    for (const refused of [newGroup({ mailEnabled: true, securityEnabled: true }), newGroup({ mailEnabled: true, securityEnabled: false })]) {
      const r = await call(em, token, 'POST', '/groups', refused);
      expect(r.status).toBe(400);
      expect(r.body.error.message).toBe('Cannot Create a mail-enabled security groups and or distribution list.');
    }
    const missing = newGroup();
    delete missing.securityEnabled;
    expect((await call(em, token, 'POST', '/groups', missing)).body.error.message).toBe("A value is required for property 'securityEnabled' of resource 'Group'.");
  });
});

describe('queries', () => {
  let ids: string[] = [];
  const tag = `q${Date.now().toString(36)}`;
  beforeAll(async () => {
    const client = graphClient(em, token);
    ids = [];
    for (let i = 0; i < 25; i++) {
      const u = await client.api('/users').post(newUser(em, { displayName: `${tag} person ${String(i).padStart(2, '0')}`, onPremisesImmutableId: `${tag}-${i}`, mail: `${tag}.${i}@contoso.example` }));
      ids.push(u.id);
    }
  });

  it('filters with eq on onPremisesImmutableId, mail, userPrincipalName; any() on proxyAddresses; startswith; and/or; in', async () => {
    const client = graphClient(em, token);
    const get = async (f: string) => (await client.api('/users').filter(f).select('id').get()).value.map((u: { id: string }) => u.id);
    expect(await get(`onPremisesImmutableId eq '${tag}-3'`)).toEqual([ids[3]]);
    expect(await get(`mail eq '${tag.toUpperCase()}.4@CONTOSO.EXAMPLE'`)).toEqual([ids[4]]);
    expect(await get(`proxyAddresses/any(p:p eq 'smtp:${tag}.5@contoso.example')`)).toEqual([ids[5]]);
    expect(await get(`startswith(displayName,'${tag} person 1')`)).toEqual(ids.slice(10, 20));
    expect(await get(`onPremisesImmutableId eq '${tag}-1' or onPremisesImmutableId eq '${tag}-2'`)).toEqual([ids[1], ids[2]]);
    expect(await get(`startswith(displayName,'${tag}') and accountEnabled eq true and onPremisesImmutableId eq '${tag}-7'`)).toEqual([ids[7]]);
    expect(await get(`onPremisesImmutableId in ('${tag}-8', '${tag}-9', 'nobody')`)).toEqual([ids[8], ids[9]]);
  });

  it('refuses filters Graph refuses', async () => {
    const notFilterable = await call(em, token, 'GET', `/users?$filter=${encodeURIComponent("passwordPolicies eq 'x'")}`);
    expect(notFilterable.status).toBe(400);
    expect(notFilterable.body.error.code).toBe('Request_UnsupportedQuery');
    const ne = await call(em, token, 'GET', `/users?$filter=${encodeURIComponent("displayName ne 'x'")}`);
    expect(ne.status).toBe(400);
    const neAdvanced = await call(em, token, 'GET', `/users?$count=true&$filter=${encodeURIComponent(`startswith(displayName,'${tag}') and onPremisesImmutableId ne '${tag}-0'`)}`, undefined, { ConsistencyLevel: 'eventual' });
    expect(neAdvanced.status).toBe(200);
    expect(neAdvanced.body['@odata.count']).toBe(24);
  });

  it('$count needs ConsistencyLevel: eventual (refused as a segment, ignored as a parameter, as Graph documents)', async () => {
    const r = await call(em, token, 'GET', '/users/$count');
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'Request_BadRequest', message: '$count is not currently supported.' });
    const seg = await fetch(`${em.graphBaseUrl}/users/$count`, { headers: { Authorization: `Bearer ${token}`, ConsistencyLevel: 'eventual' } });
    expect(seg.status).toBe(200);
    expect(Number(await seg.text())).toBeGreaterThanOrEqual(25);
    const ignored = await call(em, token, 'GET', `/users?$count=true&$filter=${encodeURIComponent(`startswith(displayName,'${tag}')`)}`);
    expect(ignored.status).toBe(200);
    expect(ignored.body).not.toHaveProperty('@odata.count');
    const ok = await call(em, token, 'GET', `/users?$count=true&$filter=${encodeURIComponent(`startswith(displayName,'${tag}')`)}`, undefined, { ConsistencyLevel: 'eventual' });
    expect(ok.status).toBe(200);
    expect(ok.body['@odata.count']).toBe(25);
  });

  it('pages with $top and @odata.nextLink ($skiptoken), followed by the SDK PageIterator', async () => {
    const client = graphClient(em, token);
    const first = await client.api('/users').filter(`startswith(displayName,'${tag}')`).select(['id', 'displayName']).top(10).get();
    expect(first.value).toHaveLength(10);
    expect(first['@odata.nextLink']).toContain('$skiptoken=');
    expect(first.value[0]).toEqual({ id: ids[0], displayName: `${tag} person 00` });
    const seen: string[] = [];
    await new PageIterator(client, first, (u: { id: string }) => {
      seen.push(u.id);
      return true;
    }).iterate();
    expect(seen).toEqual(ids);
    const badTop = await call(em, token, 'GET', '/users?$top=1000');
    expect(badTop.status).toBe(400);
    const badSelect = await call(em, token, 'GET', '/users?$select=nope');
    expect(badSelect.body.error.message).toBe("Could not find a property named 'nope' on type 'microsoft.graph.user'.");
  });
});

describe('directory extension properties', () => {
  it('a new extension property is not usable until it has propagated', async () => {
    em.configure({ extensionPropagationMs: 15_000 });
    try {
      const client = graphClient(em, token);
      const app = em.apps[0]!;
      const ext = await client.api(`/applications/${app.objectId}/extensionProperties`).post({ name: 'lateProp', dataType: 'String', targetObjects: ['User'] });
      const early = await call(em, token, 'POST', '/users', newUser(em, { [ext.name]: 'x' }));
      expect(early.status).toBe(400);
      expect(early.body.error.message).toBe(`The following extension properties are not available: ${ext.name}.`);
      (em.clock as { advance(ms: number): number }).advance(15_000);
      token = await tokenFor(em);
      expect((await call(em, token, 'POST', '/users', newUser(em, { [ext.name]: 'x' }))).status).toBe(201);
    } finally {
      em.configure({ extensionPropagationMs: 0 });
    }
  });

  it('registers extension_{appId}_{name} and lets users and groups set and filter it', async () => {
    const client = graphClient(em, token);
    const app = em.apps[0]!;
    const apps = await client.api('/applications').filter(`appId eq '${app.clientId}'`).get();
    expect(apps.value[0].id).toBe(app.objectId);
    const ext = await client.api(`/applications/${app.objectId}/extensionProperties`).post({ name: 'canopyAnchor', dataType: 'String', targetObjects: ['User', 'Group'] });
    const name = `extension_${app.clientId.replace(/-/g, '')}_canopyAnchor`;
    expect(ext.name).toBe(name);
    const g = await client.api('/groups').post(newGroup({ [name]: 'anchor-g-1' }));
    const u = await client.api('/users').post(newUser(em, { [name]: 'anchor-u-1' }));
    expect((await client.api('/groups').filter(`${name} eq 'anchor-g-1'`).select(['id', name]).get()).value).toEqual([{ id: g.id, [name]: 'anchor-g-1' }]);
    expect((await client.api('/users').filter(`${name} eq 'anchor-u-1'`).select('id').get()).value).toEqual([{ id: u.id }]);
    await client.api(`/groups/${g.id}`).patch({ [name]: 'anchor-g-2' });
    expect((await client.api('/groups').filter(`${name} eq 'anchor-g-2'`).select('id').get()).value).toEqual([{ id: g.id }]);
    const wrongType = await call(em, token, 'PATCH', `/groups/${g.id}`, { [name]: 42 });
    expect(wrongType.status).toBe(400);
    const unknown = await call(em, token, 'PATCH', `/groups/${g.id}`, { extension_0000_nope: 'x' });
    expect(unknown.body.error.message).toBe('The following extension properties are not available: extension_0000_nope.');
  });
});
