import { Redis } from 'ioredis';
import { Secret } from '@canopy/config';
import { readStackInfo } from '@canopy/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { GraphClient } from '../src/graph/graph-client.js';
import { TokenProvider } from '../src/graph/token-provider.js';
import { ThrottleGate } from '../src/rate/throttle-gate.js';
import { WriteQuota, takeFromWindows, type AcquireResult, type Grant, type WindowLimit } from '../src/rate/write-quota.js';
import { log, startEmulator, wipeRedis, type EmulatorProcess } from './harness.js';

/** The edges on their own: MSAL against the emulator's token endpoint, and the Lua write quota on real Redis. */
describe('token provider and Graph client against the emulator', () => {
  let em: EmulatorProcess;
  beforeAll(async () => {
    em = await startEmulator();
  }, 60_000);
  afterAll(async () => {
    await em?.stop();
  });

  const provider = (how: 'secret' | 'certificate') =>
    new TokenProvider(
      {
        authorityHost: em.info.authorityHost,
        tenantId: em.info.tenantId,
        clientId: em.app.clientId,
        scope: 'https://graph.microsoft.com/.default',
        ...(how === 'secret'
          ? { clientSecret: new Secret(em.app.clientSecret) }
          : { certificatePem: readFileSync(em.app.certificatePath, 'utf8'), privateKey: new Secret(readFileSync(em.app.privateKeyPath, 'utf8')) }),
      },
      log,
    );

  it.each(['secret', 'certificate'] as const)('gets an app token with a %s, caches it, and the client sends it to a custom host', async (how) => {
    const tokens = provider(how);
    const before = (await em.counters()).tokenRequests.issued;
    const t1 = await tokens.getAccessToken();
    const t2 = await tokens.getAccessToken();
    expect(t1).toBe(t2);
    expect((await em.counters()).tokenRequests.issued).toBe(before + 1);
    const graph = new GraphClient({ baseUrl: em.info.graphBaseUrl, tokens, requestTimeoutMs: 10_000 }, log);
    const res = await graph.request({ method: 'GET', path: '/users?$top=1' });
    expect(res.status).toBe(200);
    tokens.invalidate();
    expect((await graph.request({ method: 'GET', path: '/users?$top=1' })).status).toBe(200);
    expect((await em.counters()).tokenRequests.issued).toBe(before + 2);
    tokens.stop();
  });

  it('refuses a wrong secret with a permanent error', async () => {
    const bad = new TokenProvider(
      { authorityHost: em.info.authorityHost, tenantId: em.info.tenantId, clientId: em.app.clientId, scope: 'https://graph.microsoft.com/.default', clientSecret: new Secret('wrong') },
      log,
    );
    await expect(bad.getAccessToken()).rejects.toMatchObject({ retriable: false, type: 'Graph.AuthFailed' });
  });
});

/** Most writes any sliding window (t - windowMs, t] saw, over grants in time order. */
function maxInAnyWindow(grants: Grant[], windowMs: number): number {
  const sorted = [...grants].sort((x, y) => x.at - y.at);
  let max = 0;
  let sum = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    sum += sorted[i]!.n;
    while (sorted[j]!.at <= sorted[i]!.at - windowMs) sum -= sorted[j++]!.n;
    max = Math.max(max, sum);
  }
  return max;
}

describe('the shared write quota (sliding-window log) on real Redis', () => {
  const stack = readStackInfo();
  const a = new Redis(stack.redis.url);
  const b = new Redis(stack.redis.url);
  const prefix = `gwtest:quota:${Date.now()}`;
  afterAll(async () => {
    await wipeRedis(a, prefix);
    a.disconnect();
    b.disconnect();
  });

  it('two replicas sharing one quota never exceed the limit in any window, and use it', async () => {
    const limits: WindowLimit[] = [
      { limit: 60, windowMs: 1_000 },
      { limit: 100, windowMs: 2_500 },
    ];
    const r1 = new WriteQuota(a, `${prefix}:shared`, limits);
    const r2 = new WriteQuota(b, `${prefix}:shared`, limits);
    const grants: Grant[] = [];
    const stop = AbortSignal.timeout(3_700);
    let k = 0;
    await Promise.all(
      [r1, r2, r1, r2].map(async (quota) => {
        while (!stop.aborted) {
          const n = 1 + (k++ % 10);
          let r: AcquireResult;
          try {
            r = await quota.acquire(n, { signal: stop });
          } catch {
            return;
          }
          grants.push({ at: r.at, n });
        }
      }),
    );
    // Grant times are Redis' clock, the one the script decided on.
    for (const l of limits) expect(maxInAnyWindow(grants, l.windowMs)).toBeLessThanOrEqual(l.limit);
    // Kept busy, both windows fill up: the short one nearly to its limit (requests of up to 10),
    // and in 3.7 s the long window has slid (more than its 100 were granted).
    expect(maxInAnyWindow(grants, 1_000)).toBeGreaterThanOrEqual(51);
    expect(maxInAnyWindow(grants, 2_500)).toBeGreaterThanOrEqual(91);
    const total = grants.reduce((s, g) => s + g.n, 0);
    expect(total).toBeGreaterThan(100);
    expect(Number(await a.get(r1.grantedKey))).toBe(total);
    // Keys expire 2x the longest window after the last grant.
    for (const key of [r1.windowKey(0), r1.windowKey(1), r1.grantedKey]) {
      const ttl = await a.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(5_000);
    }
  });

  it('the Lua script decides exactly like the model (takeFromWindows) on the same grant times', async () => {
    const limits: WindowLimit[] = [
      { limit: 10, windowMs: 300 },
      { limit: 15, windowMs: 700 },
    ];
    const q = new WriteQuota(a, `${prefix}:model`, limits);
    let logs: Grant[][] = [];
    let refused = 0;
    for (let i = 0; i < 60; i++) {
      const n = 1 + ((i * 7) % 6);
      const r = await q.tryAcquire(n);
      const m = takeFromWindows(logs, r.at, n, limits);
      expect({ granted: r.granted, waitMs: r.waitMs, available: r.available }).toEqual({ granted: m.granted, waitMs: m.waitMs, available: m.available });
      logs = m.logs;
      if (!r.granted) refused++;
      await new Promise((res) => setTimeout(res, (i * 13) % 50));
    }
    expect(refused).toBeGreaterThan(5);
  });

  it('available() is what every window still grants; it writes nothing, and a hot reload keeps the log', async () => {
    const q = new WriteQuota(a, `${prefix}:avail`, [
      { limit: 10, windowMs: 60_000 },
      { limit: 30, windowMs: 120_000 },
    ]);
    expect(await q.available()).toBe(10);
    expect(await a.exists(q.windowKey(0), q.windowKey(1), q.grantedKey)).toBe(0);
    expect(await q.tryAcquire(8)).toMatchObject({ granted: true, available: 2, paused: false });
    expect(await q.available()).toBe(2);
    expect(await q.tryAcquire(3)).toMatchObject({ granted: false, available: 2 });
    q.setParams([
      { limit: 20, windowMs: 60_000 },
      { limit: 30, windowMs: 120_000 },
    ]);
    expect(await q.available()).toBe(12);
    expect((await q.tryAcquire(3)).granted).toBe(true);
    // A request larger than a window's limit is taken in parts.
    const small = new WriteQuota(a, `${prefix}:parts`, [
      { limit: 5, windowMs: 400 },
      { limit: 100, windowMs: 800 },
    ]);
    const t0 = Date.now();
    await small.acquire(12);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(700);
    expect(Number(await a.get(small.grantedKey))).toBe(12);
  });

  it('settle re-stamps a grant with the answer time: it leaves every window that much later', async () => {
    const q = new WriteQuota(a, `${prefix}:settle`, [
      { limit: 10, windowMs: 500 },
      { limit: 100, windowMs: 1_000 },
    ]);
    const g = await q.tryAcquire(10);
    expect(g.members).toHaveLength(1);
    await new Promise((res) => setTimeout(res, 200));
    const at = await q.settle(g);
    expect(at - g.at).toBeGreaterThanOrEqual(190);
    expect(Number(await a.zscore(q.windowKey(0), g.members[0]!))).toBe(at);
    expect(Number(await a.zscore(q.windowKey(1), g.members[0]!))).toBe(at);
    const r = await q.tryAcquire(1);
    expect(r).toMatchObject({ granted: false, waitMs: at + 500 - r.at, available: 0 });
    // Settling twice counts nothing twice.
    await q.settle(g);
    expect(await q.available()).toBe(0);
    await new Promise((res) => setTimeout(res, 750));
    expect(await q.available()).toBe(10);
  });

  it('a pause set by one replica (429) blocks every replica until it expires', async () => {
    const limits: WindowLimit[] = [
      { limit: 10_000, windowMs: 1_000 },
      { limit: 10_000, windowMs: 2_000 },
    ];
    const r1 = new WriteQuota(a, `${prefix}:p`, limits);
    const r2 = new WriteQuota(b, `${prefix}:p`, limits);
    const gate = new ThrottleGate(a, r1.pauseKey);
    expect(await gate.pause(800, 'test')).toBe(true);
    expect(await gate.pause(100, 'shorter')).toBe(false);
    const blocked = await r2.tryAcquire(1);
    expect(blocked).toMatchObject({ granted: false, paused: true });
    expect(blocked.waitMs).toBeGreaterThan(500);
    expect((await r1.tryAcquire(1)).paused).toBe(true);
    const t0 = Date.now();
    await Promise.all([r1.acquire(1), r2.acquire(1)]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(600);
    expect((await r1.tryAcquire(1)).granted).toBe(true);
    // Nothing was granted while paused.
    expect(Number(await a.get(r1.grantedKey))).toBe(3);
  });
});
