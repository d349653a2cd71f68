import { Redis } from 'ioredis';
import { Secret } from '@canopy/config';
import { readStackInfo } from '@canopy/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { GraphClient } from '../src/graph/graph-client.js';
import { TokenProvider } from '../src/graph/token-provider.js';
import { ThrottleGate } from '../src/rate/throttle-gate.js';
import { TokenBucket, bucketParams } from '../src/rate/token-bucket.js';
import { log, startEmulator, wipeRedis, type EmulatorProcess } from './harness.js';

/** The edges on their own: MSAL against the emulator's token endpoint, and the Lua bucket on real Redis. */
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

describe('the shared token bucket on real Redis', () => {
  const stack = readStackInfo();
  const a = new Redis(stack.redis.url);
  const b = new Redis(stack.redis.url);
  const prefix = `gwtest:bucket:${Date.now()}`;
  afterAll(async () => {
    await wipeRedis(a, prefix);
    a.disconnect();
    b.disconnect();
  });

  it('two replicas together never get more than capacity + rate x elapsed', async () => {
    const params = bucketParams({ writesPerWindow: 200, window: 2_000, tenantWritesPerFiveMinutes: 1e9 }, 1, 0.1);
    const r1 = new TokenBucket(a, prefix, params, 2_000);
    const r2 = new TokenBucket(b, prefix, params, 2_000);
    const t0 = Date.now();
    let granted = 0;
    const until = t0 + 1_500;
    await Promise.all(
      [r1, r2, r1, r2].map(async (bucket) => {
        while (Date.now() < until) {
          const r = await bucket.tryAcquire(5);
          if (r.granted) granted += 5;
          else await new Promise((res) => setTimeout(res, Math.min(r.waitMs, 20)));
        }
      }),
    );
    const elapsed = Date.now() - t0;
    const allowed = params.capacity + params.ratePerMs * elapsed;
    expect(granted).toBeLessThanOrEqual(allowed + 5);
    expect(granted).toBeGreaterThan(allowed * 0.7);
  });

  it('a pause set by one replica (429) blocks every replica until it expires', async () => {
    const params = bucketParams({ writesPerWindow: 10_000, window: 1_000, tenantWritesPerFiveMinutes: 1e9 }, 1, 0.5);
    const r1 = new TokenBucket(a, `${prefix}:p`, params, 1_000);
    const r2 = new TokenBucket(b, `${prefix}:p`, params, 1_000);
    const gate = new ThrottleGate(a, r1.pauseKey);
    expect(await gate.pause(800, 'test')).toBe(true);
    expect(await gate.pause(100, 'shorter')).toBe(false);
    const blocked = await r2.tryAcquire(1);
    expect(blocked).toMatchObject({ granted: false, paused: true });
    expect(blocked.waitMs).toBeGreaterThan(500);
    const t0 = Date.now();
    await r2.acquire(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(600);
    expect((await r1.tryAcquire(1)).granted).toBe(true);
  });
});
