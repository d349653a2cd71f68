import type { SpawnedService } from '@canopy/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allResults, anchorOf, graphCaller, groupOp, kafkaEnv, publishGlobal, resultFor, sendOps, startEmulator, startWriter, userOp, type EmulatorProcess, type Env } from './harness.js';

/**
 * A 5,000-member group costs at most ceil(5000/20) = 250 member writes (the emulator counts every
 * write). The 5,000 users are written first, at a quota raised tenfold on both sides (emulator
 * multiplier and global.quota), so the suite takes seconds, not Microsoft's 250 s.
 */
describe('a 5,000-member group', () => {
  let em: EmulatorProcess;
  let env: Env;
  let writer: SpawnedService;

  beforeAll(async () => {
    em = await startEmulator({ throttle: { quotaMultiplier: 10 } });
    env = await kafkaEnv();
    await publishGlobal(env, em, { quota: { writesPerWindow: 30_000, window: '150s', tenantWritesPerFiveMinutes: 180_000 } });
    writer = await startWriter(env, em);
  }, 120_000);

  afterAll(async () => {
    await writer?.stop('SIGTERM');
    await env?.close();
    await em?.stop();
  });

  it('is written in no more than 250 member writes, and an unchanged replay costs none', async () => {
    const users = Array.from({ length: 5000 }, (_, i) => userOp(em, anchorOf(`s${i}`)));
    const base = (await em.counters()).writes as number; // the anchor extension registration
    const t0 = Date.now();
    await sendOps(env, users);
    const results = await allResults(env, users, 240_000);
    const userSeconds = (Date.now() - t0) / 1000;
    expect([...results.values()].every((rs) => rs[0]!.outcome === 'CREATED' && rs[0]!.writes === 1)).toBe(true);
    const afterUsers = await em.counters();
    expect(afterUsers.writes - base).toBe(5000);
    expect(afterUsers.batches).toBeGreaterThanOrEqual(250);

    const g = groupOp(anchorOf('big'), users.map((u) => u.sourceAnchor));
    const t1 = Date.now();
    await sendOps(env, [g]);
    const r = await resultFor(env, g, 120_000);
    const groupSeconds = (Date.now() - t1) / 1000;
    expect(r.outcome).toBe('CREATED');
    const after = await em.counters();
    const groupWrites = after.writes - afterUsers.writes;
    expect(groupWrites).toBeLessThanOrEqual(250);
    expect(r.writes).toBe(groupWrites);
    const graph = await graphCaller(em);
    const count = await graph('GET', `/groups/${r.entraId}/members?$count=true&$top=1`, undefined, { ConsistencyLevel: 'eventual' });
    expect(count.body['@odata.count']).toBe(5000);

    const replay = { ...g, opId: crypto.randomUUID() };
    await sendOps(env, [replay]);
    expect(await resultFor(env, replay)).toMatchObject({ outcome: 'NOOP', writes: 0 });
    expect((await em.counters()).writes).toBe(after.writes);
    console.log(`[measure] 5000 users: ${afterUsers.writes - base} writes in ${afterUsers.batches} $batch calls, ${userSeconds.toFixed(1)} s; 5000-member group: ${groupWrites} writes, ${groupSeconds.toFixed(1)} s`);
  }, 300_000);
});
