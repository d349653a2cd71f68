import { BatchRequestContent, BatchResponseContent } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock, type AdjustableClock, type Emulator } from '../src/main.js';
import { call, graphClient, newGroup, newUser, start, tokenFor } from './helpers.js';

let em: Emulator;
let clock: AdjustableClock;
let token: string;

beforeAll(async () => {
  clock = manualClock();
  em = await start({ clock });
  token = await tokenFor(em);
});
afterAll(async () => em?.close());

const batchOf = (requests: unknown[]) => call(em, token, 'POST', '/$batch', { requests });

describe('$batch', () => {
  it('refuses a 21-request batch with 400', async () => {
    const requests = Array.from({ length: 21 }, (_, i) => ({ id: String(i + 1), method: 'GET', url: '/users?$top=1' }));
    const r = await batchOf(requests);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('BadRequest');
    expect((await batchOf(requests.slice(0, 20))).status).toBe(200);
  });

  it('runs 20 serial requests from the SDK BatchRequestContent, with dependsOn and per-request status, headers and body', async () => {
    const content = new BatchRequestContent();
    const user = newUser(em);
    const base = em.graphBaseUrl;
    content.addRequest({ id: '1', request: new Request(`${base}/users`, { method: 'POST', body: JSON.stringify(user), headers: { 'Content-Type': 'application/json' } }) });
    content.addRequest({ id: '2', request: new Request(`${base}/users/${encodeURIComponent(String(user.userPrincipalName))}?$select=id,userPrincipalName`, { method: 'GET' }), dependsOn: ['1'] });
    content.addRequest({ id: '3', request: new Request(`${base}/users`, { method: 'POST', body: JSON.stringify({ ...newUser(em), bogus: 1 }), headers: { 'Content-Type': 'application/json' } }), dependsOn: ['2'] });
    for (let i = 4; i <= 20; i++) content.addRequest({ id: String(i), request: new Request(`${base}/groups?$top=1`, { method: 'GET' }), dependsOn: [String(i - 1)] });
    const client = graphClient(em, token);
    const raw = await client.api('/$batch').post(await content.getContent());
    const res = new BatchResponseContent(raw);
    const r1 = res.getResponseById('1');
    expect(r1.status).toBe(201);
    const created = await r1.json();
    const r2 = await res.getResponseById('2').json();
    expect(r2).toMatchObject({ id: created.id, userPrincipalName: user.userPrincipalName });
    expect(res.getResponseById('3').status).toBe(400);
    expect((await res.getResponseById('3').json()).error.message).toBe("Property 'bogus' does not exist on type 'microsoft.graph.user'.");
    expect(res.getResponseById('4').status).toBe(424);
    expect(res.getResponseById('20').status).toBe(424);
    expect(raw.responses).toHaveLength(20);
  });

  it('answers independent items in no particular order (as Graph documents); sequential on request', async () => {
    const requests = Array.from({ length: 20 }, (_, i) => ({ id: String(i + 1), method: 'GET', url: '/groups?$top=1' }));
    const shuffled = (await batchOf(requests)).body.responses.map((r: { id: string }) => r.id);
    expect([...shuffled].sort((a, b) => Number(a) - Number(b))).toEqual(requests.map((r) => r.id));
    expect(shuffled).not.toEqual(requests.map((r) => r.id));
    em.configure({ batchOrder: 'sequential' });
    try {
      expect((await batchOf(requests)).body.responses.map((r: { id: string }) => r.id)).toEqual(requests.map((r) => r.id));
    } finally {
      em.configure({ batchOrder: 'shuffled' });
    }
  });
});

describe('throttling (identity and access limits, injected clock)', () => {
  it('reports x-ms-resource-unit with the documented costs and the quota header on every response', async () => {
    const g = await graphClient(em, token).api('/groups').post(newGroup());
    const cases: Array<[string, string]> = [
      ['/users', '2'],
      ['/users?$select=id', '1'],
      ['/users?$top=5', '1'],
      [`/groups/${g.id}/members`, '3'],
      [`/groups/${g.id}/members?$select=id`, '2'],
      ['/groups', '1'],
    ];
    for (const [path, ru] of cases) {
      const r = await call(em, token, 'GET', path);
      expect(r.headers.get('x-ms-resource-unit'), path).toBe(ru);
      expect(r.headers.get('x-canopy-emulator-quota')).toBe('multiplier=1;timescale=1');
    }
    expect((await call(em, token, 'PATCH', `/groups/${g.id}`, { description: 'x' })).headers.get('x-ms-resource-unit')).toBe('1');
  });

  it('allows exactly 3,000 writes per app per tenant per 150 s, then 429 WriteLimitExceeded with Retry-After', async () => {
    em.reset();
    clock.advance(600_000);
    token = await tokenFor(em);
    const g = await graphClient(em, token).api('/groups').post(newGroup()); // write 1
    let statuses: number[] = [];
    for (let b = 0; b < 150; b++) {
      const n = b === 149 ? 19 : 20; // 1 + 149*20 + 19 = 3000 writes
      const r = await batchOf(Array.from({ length: n }, (_, i) => ({ id: String(i + 1), method: 'PATCH', url: `/groups/${g.id}`, headers: { 'Content-Type': 'application/json' }, body: { description: `d${b}-${i}` } })));
      statuses = statuses.concat(r.body.responses.map((x: { status: number }) => x.status));
    }
    expect(statuses.filter((s) => s === 204)).toHaveLength(2999);
    const over = await call(em, token, 'PATCH', `/groups/${g.id}`, { description: 'one too many' });
    expect(over.status).toBe(429);
    expect(over.headers.get('x-ms-throttle-information')).toBe('WriteLimitExceeded');
    expect(over.headers.get('x-ms-throttle-scope')).toBe(`Tenant_Application/Write/${em.apps[0]!.clientId}/${em.tenantId}`);
    expect(Number(over.headers.get('retry-after'))).toBe(150);
    // reads are not writes: still served
    expect((await call(em, token, 'GET', '/groups?$top=1')).status).toBe(200);
    clock.advance(149_000);
    expect((await call(em, token, 'PATCH', `/groups/${g.id}`, { description: 'still early' })).status).toBe(429);
    clock.advance(1_000); // exactly Retry-After after the 429
    expect((await call(em, token, 'PATCH', `/groups/${g.id}`, { description: 'after Retry-After' })).status).toBe(204);
    expect(em.counters.snapshot().throttled.byInformation.WriteLimitExceeded).toBe(2);
  });

  it('limits resource units per 10 s by tenant size (multiplier shown in the header)', async () => {
    em.reset();
    em.configure({ throttle: { quotaMultiplier: 0.01 } }); // small tenant: 3,500 * 0.01 = 35 RU
    try {
      clock.advance(600_000);
      token = await tokenFor(em);
      const results: number[] = [];
      for (let i = 0; i < 18; i++) results.push((await call(em, token, 'GET', '/users')).status); // 2 RU each
      expect(results.slice(0, 17).every((s) => s === 200)).toBe(true);
      const last = await call(em, token, 'GET', '/users');
      expect(last.status).toBe(429);
      expect(last.headers.get('x-ms-throttle-information')).toBe('ResourceUnitLimitExceeded');
      expect(last.headers.get('x-canopy-emulator-quota')).toBe('multiplier=0.01;timescale=1');
      expect(last.body.error.code).toBe('TooManyRequests');
      clock.advance(10_000);
      expect((await call(em, token, 'GET', '/users')).status).toBe(200);
    } finally {
      em.configure({ throttle: { quotaMultiplier: 1 } });
    }
  });

  it('limits writes per tenant across apps (18,000 per 5 min, scaled)', async () => {
    em.reset();
    em.configure({ throttle: { quotaMultiplier: 0.01 } }); // 30 per app per 150 s, 180 per tenant per 5 min
    try {
      clock.advance(600_000);
      const apps = Array.from({ length: 7 }, (_, i) => em.registerApp({ displayName: `bulk-${i}`, secret: true, roles: ['Group.ReadWrite.All'] }));
      let accepted = 0;
      let tenantScoped = 0;
      for (const app of apps) {
        const t = await tokenFor(em, app);
        for (let i = 0; i < 30; i++) {
          const r = await call(em, t, 'POST', '/groups', newGroup());
          if (r.status === 201) accepted++;
          else if (r.headers.get('x-ms-throttle-scope')?.startsWith('Tenant/Write/')) tenantScoped++;
        }
      }
      expect(accepted).toBe(180);
      expect(tenantScoped).toBe(30);
      expect(em.counters.snapshot().throttled.byScope['Tenant/Write']).toBe(30);
    } finally {
      em.configure({ throttle: { quotaMultiplier: 1 } });
    }
  });

  it('throttles each batch item on its own while the batch itself is 200', async () => {
    em.reset();
    em.configure({ throttle: { quotaMultiplier: 0.01 } });
    try {
      clock.advance(600_000);
      token = await tokenFor(em);
      const r = await batchOf(Array.from({ length: 20 }, (_, i) => ({ id: String(i + 1), method: 'GET', url: '/users' })));
      expect(r.status).toBe(200);
      const statuses = r.body.responses.map((x: { status: number }) => x.status);
      expect(statuses.filter((s: number) => s === 200)).toHaveLength(17);
      const throttled = r.body.responses.find((x: { status: number }) => x.status === 429);
      expect(throttled.headers['Retry-After']).toBeTruthy();
      expect(throttled.headers['x-ms-throttle-information']).toBe('ResourceUnitLimitExceeded');
    } finally {
      em.configure({ throttle: { quotaMultiplier: 1 } });
    }
  });
});
