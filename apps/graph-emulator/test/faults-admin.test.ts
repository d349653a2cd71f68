import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../src/main.js';
import { call, graphClient, newGroup, newUser, start, tokenFor } from './helpers.js';

let em: Emulator;
let token: string;
const admin = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${em.adminUrl}${path}`, { method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
};

beforeAll(async () => {
  em = await start();
  token = await tokenFor(em);
});
afterAll(async () => em?.close());

describe('fault injection through the admin API', () => {
  it('injects 5xx at a rate', async () => {
    expect((await admin('PATCH', '/config', { faults: { errorRate: 1, errorStatuses: [500] } })).status).toBe(200);
    try {
      const r = await call(em, token, 'GET', '/users');
      expect(r.status).toBe(500);
      expect(r.body.error.code).toBe('UnknownError');
      expect(r.headers.get('request-id')).toBeTruthy();
    } finally {
      await admin('PATCH', '/config', { faults: { errorRate: 0 } });
    }
    expect((await call(em, token, 'GET', '/users')).status).toBe(200);
    expect((await admin('GET', '/counters')).body.faults.errors).toBe(1);
  });

  it('injects a permanent refusal (403, as for an app that lost its permission) with Graph\'s error body', async () => {
    expect((await admin('PATCH', '/config', { faults: { errorRate: 1, errorStatuses: [403] } })).status).toBe(200);
    try {
      const r = await call(em, token, 'POST', '/users', {});
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('Authorization_RequestDenied');
      expect(r.body.error.innerError['request-id']).toBeTruthy();
    } finally {
      await admin('PATCH', '/config', { faults: { errorRate: 0 } });
    }
    // Statuses outside 400-599 are not faults.
    expect((await admin('PATCH', '/config', { faults: { errorStatuses: [302] } })).status).toBe(400);
  });

  it('drops connections and slows responses', async () => {
    await admin('PATCH', '/config', { faults: { dropRate: 1 } });
    try {
      await expect(fetch(`${em.graphBaseUrl}/users`, { headers: { Authorization: `Bearer ${token}` } })).rejects.toThrow();
    } finally {
      await admin('PATCH', '/config', { faults: { dropRate: 0 } });
    }
    await admin('PATCH', '/config', { faults: { slowRate: 1, slowMs: 300 } });
    try {
      const t0 = Date.now();
      expect((await call(em, token, 'GET', '/users')).status).toBe(200);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    } finally {
      await admin('PATCH', '/config', { faults: { slowRate: 0 } });
    }
  });

  it('answers 429 storms at a chosen rate with Retry-After', async () => {
    await admin('PATCH', '/config', { faults: { throttleRate: 1, throttleRetryAfterSeconds: 7 } });
    try {
      const r = await call(em, token, 'GET', '/users');
      expect(r.status).toBe(429);
      expect(r.headers.get('retry-after')).toBe('7');
      expect(r.headers.get('x-ms-throttle-scope')).toBeTruthy();
    } finally {
      await admin('PATCH', '/config', { faults: { throttleRate: 0 } });
    }
  });

  it('refuses an invalid config with 400', async () => {
    const r = await admin('PATCH', '/config', { faults: { errorRate: 3 } });
    expect(r.status).toBe(400);
    expect((await admin('PATCH', '/config', { nonsense: true })).status).toBe(400);
  });
});

describe('admin API', () => {
  it('reports health, info, counters; exports, resets and imports the tenant', async () => {
    expect((await admin('GET', '/healthz')).body.status).toBe('ok');
    const info = (await admin('GET', '/info')).body;
    expect(info).toMatchObject({ tenantId: em.tenantId, graphBaseUrl: em.graphBaseUrl, caCertPath: em.caCertPath });
    const client = graphClient(em, token);
    const u = await client.api('/users').post(newUser(em));
    const g = await client.api('/groups').post(newGroup());
    await client.api(`/groups/${g.id}/members/$ref`).post({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${u.id}` });
    const counters = (await admin('GET', '/counters')).body;
    expect(counters.writes).toBeGreaterThanOrEqual(3);
    expect(counters.perApp[em.apps[0]!.clientId].writes).toBeGreaterThanOrEqual(3);
    const state = (await admin('GET', '/state')).body;
    expect(state.directory.users.map((x: { id: string }) => x.id)).toContain(u.id);
    const one = await admin('GET', `/users?upn=${encodeURIComponent(u.userPrincipalName)}`);
    expect(one.body).toMatchObject({ id: u.id, state: 'live', props: { userPrincipalName: u.userPrincipalName } });
    expect((await admin('GET', '/users?upn=nobody%40example.test')).status).toBe(404);
    expect((await admin('POST', '/reset')).status).toBe(204);
    expect((await call(em, token, 'GET', `/users/${u.id}`)).status).toBe(404);
    expect((await admin('PUT', '/state', state)).status).toBe(204);
    expect((await client.api(`/users/${u.id}`).get()).id).toBe(u.id);
    expect((await client.api(`/groups/${g.id}/members`).get()).value.map((m: { id: string }) => m.id)).toEqual([u.id]);
  });

  it('streams the tenant as NDJSON (admin API and saveState/loadState) for large tenants', async () => {
    const client = graphClient(em, token);
    const u = await client.api('/users').post(newUser(em));
    const g = await client.api('/groups').post(newGroup());
    await client.api(`/groups/${g.id}/members/$ref`).post({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${u.id}` });
    await client.api(`/users/${u.id}`).delete();
    const text = await (await fetch(`${em.adminUrl}/state?format=ndjson`)).text();
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ type: 'meta', version: 1, tenantId: em.tenantId });
    const file = `${em.stateDir}/tenant.ndjson`;
    const saved = await em.saveState(file);
    expect(saved.users).toBe(lines.filter((l) => l.type === 'user').length);
    await admin('POST', '/reset');
    const loaded = await fetch(`${em.adminUrl}/state?format=ndjson`, { method: 'PUT', body: text });
    expect(await loaded.json()).toEqual(saved);
    expect((await client.api(`/groups/${g.id}`).get()).id).toBe(g.id);
    const deleted = await client.api(`/directory/deletedItems/${u.id}`).get();
    expect(deleted.userPrincipalName).toBe(`${u.id.replace(/-/g, '')}${u.userPrincipalName}`);
    await admin('POST', '/reset');
    expect(await em.loadState(file)).toEqual(saved);
    await client.api(`/directory/deletedItems/${u.id}/restore`).post({});
    expect((await client.api(`/groups/${g.id}/members`).get()).value.map((m: { id: string }) => m.id)).toEqual([u.id]);
  });

  it('advances the clock (tokens expire without sleeping)', async () => {
    const t = await tokenFor(em);
    const before = (await admin('GET', '/clock')).body.now;
    const after = (await admin('POST', '/clock/advance', { ms: 7200_000 })).body.now;
    expect(after - before).toBeGreaterThanOrEqual(7200_000);
    expect((await call(em, t, 'GET', '/users')).status).toBe(401);
    token = await tokenFor(em);
  });

  it('registers apps with roles at runtime', async () => {
    const r = await admin('POST', '/apps', { displayName: 'runtime-reader', secret: 'my-secret-Value1', roles: ['User.Read.All'] });
    expect(r.status).toBe(201);
    const t = await tokenFor(em, r.body);
    expect((await call(em, t, 'GET', '/users')).status).toBe(200);
    expect((await call(em, t, 'POST', '/users', newUser(em))).status).toBe(403);
  });
});

describe('a separate process trusts the emulator through NODE_EXTRA_CA_CERTS only', () => {
  it('acquires a token with MSAL and reads users, with nothing emulator-specific but configuration', async () => {
    const app = em.apps[0]!;
    const script = `
      import { ConfidentialClientApplication } from '@azure/msal-node';
      const cca = new ConfidentialClientApplication({ auth: { clientId: process.env.CLIENT_ID, clientSecret: process.env.CLIENT_SECRET, authority: process.env.AUTHORITY, knownAuthorities: [new URL(process.env.AUTHORITY).host] } });
      const r = await cca.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] });
      const res = await fetch(process.env.GRAPH + '/users?$top=1', { headers: { Authorization: 'Bearer ' + r.accessToken } });
      console.log(res.status);`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: process.cwd(),
      env: { ...process.env, NODE_EXTRA_CA_CERTS: em.caCertPath, CLIENT_ID: app.clientId, CLIENT_SECRET: app.clientSecret!, AUTHORITY: em.authority, GRAPH: em.graphBaseUrl },
    });
    expect(stdout.trim()).toBe('200');
  });

  it('a process without the CA refuses the emulator certificate', async () => {
    const script = `try { await fetch(process.env.GRAPH + '/users'); console.log('trusted'); } catch (e) { console.log(e.cause?.code ?? e.message); }`;
    const env = { ...process.env, GRAPH: em.graphBaseUrl };
    delete env.NODE_EXTRA_CA_CERTS;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env });
    expect(stdout.trim()).not.toBe('trusted');
  });
});
