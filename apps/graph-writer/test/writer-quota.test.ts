import type { SpawnedService } from '@canopy/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { allResults, anchorOf, kafkaEnv, metric, publishGlobal, sendOps, startEmulator, startWriter, userOp, type EmulatorProcess, type Env } from './harness.js';

/**
 * The quota is the pipeline's physical limit: a 429 pauses every replica for its Retry-After,
 * and two writer replicas together stay inside one quota (the emulator refuses anything above it,
 * so zero WriteLimitExceeded answers is the proof).
 */
describe('graph-writer and the write quota', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
  });

  it('obeys a 429 storm: waits out Retry-After everywhere, then writes everything exactly once', async () => {
    const em: EmulatorProcess = await startEmulator();
    cleanup.push(() => em.stop());
    const env: Env = await kafkaEnv();
    cleanup.push(() => env.close());
    await publishGlobal(env, em);
    const writer: SpawnedService = await startWriter(env, em);
    cleanup.push(() => writer.stop('SIGTERM'));

    // Every Graph request answers 429 with Retry-After: 2 for 6 s.
    await em.admin('PATCH', '/config', { faults: { throttleRate: 1, throttleRetryAfterSeconds: 2, pathPattern: '^/(users|groups)' } });
    const ops = Array.from({ length: 100 }, (_, i) => userOp(em, anchorOf(`storm${i}`)));
    const before = await em.counters();
    await sendOps(env, ops);
    await new Promise((r) => setTimeout(r, 6_000));
    const during = await em.counters();
    await em.admin('PATCH', '/config', { faults: { throttleRate: 0 } });
    const results = await allResults(env, ops, 60_000);

    const stormRequests = during.requests - before.requests;
    const storm429 = during.faults.throttleStorm - before.faults.throttleStorm;
    // Obeying Retry-After means one round of requests per 2 s pause (a round: at most 64 ops
    // reading at once, 4 batches of 20 writing), so at most 4 rounds in 6 s. A client retrying at
    // once makes thousands of requests in 6 s.
    expect(storm429).toBeGreaterThan(0);
    expect(stormRequests).toBeLessThanOrEqual(4 * (64 + 80));
    expect([...results.values()].every((rs) => rs.length === 1 && rs[0]!.outcome === 'CREATED')).toBe(true);
    const state = await em.exportState();
    const users = JSON.stringify(state);
    for (const op of ops) expect(users.split(`"${op.sourceAnchor}"`).length - 1).toBe(1);
    expect(await metric(writer, 'canopy_graph_writer_throttled_total')).toBeGreaterThan(0);
    console.log(`[measure] 429 storm of 6 s: ${stormRequests} requests, ${storm429} answered 429; then 100 users created once each`);
  }, 120_000);

  it('two replicas share one write quota and stay inside one (time-scaled) quota', async () => {
    // Emulator: 300 writes per 15 s (multiplier 0.1, time scale 0.1). Writers are told the same.
    const em: EmulatorProcess = await startEmulator({ throttle: { quotaMultiplier: 0.1, timeScale: 0.1 } });
    cleanup.push(() => em.stop());
    const env: Env = await kafkaEnv({ opsPartitions: 4 });
    cleanup.push(() => env.close());
    await publishGlobal(env, em, { quota: { writesPerWindow: 300, window: '15s', tenantWritesPerFiveMinutes: 1800 } });
    const a = await startWriter(env, em);
    cleanup.push(() => a.stop('SIGTERM'));
    const b = await startWriter(env, em);
    cleanup.push(() => b.stop('SIGTERM'));

    const ops = Array.from({ length: 600 }, (_, i) => userOp(em, anchorOf(`q${i}`)));
    const t0 = Date.now();
    await sendOps(env, ops);
    const results = await allResults(env, ops, 180_000);
    const seconds = (Date.now() - t0) / 1000;
    expect([...results.values()].every((rs) => rs[0]!.outcome === 'CREATED')).toBe(true);
    const c = await em.counters();
    const writeLimit429 = c.throttled.byInformation.WriteLimitExceeded ?? 0;
    expect(writeLimit429).toBe(0);
    // Both replicas wrote, and together they could not have gone faster than the quota allows:
    // the writers grant 291 per 15 s window (300 x quotaSafety 0.97), so 600 writes need three
    // windows: any 30 s holds at most 2 x 291 = 582 of them, the last write comes more than 30 s
    // after the first.
    const wa = await metric(a, 'canopy_graph_writer_writes_total');
    const wb = await metric(b, 'canopy_graph_writer_writes_total');
    expect(wa).toBeGreaterThan(0);
    expect(wb).toBeGreaterThan(0);
    expect(wa + wb).toBeGreaterThanOrEqual(600);
    expect(seconds).toBeGreaterThan(30);
    console.log(`[measure] 2 replicas, quota 300/15 s: 600 creates in ${seconds.toFixed(1)} s (${(600 / seconds).toFixed(1)}/s, quota ${(300 / 15).toFixed(1)}/s), writes a=${wa} b=${wb}, 429s=${c.throttled.total}`);
  }, 240_000);
});
