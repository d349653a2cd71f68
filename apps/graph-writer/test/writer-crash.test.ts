import type { SyncResult } from '@canopy/contracts';
import { waitFor, type SpawnedService } from '@canopy/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allResults, anchorOf, groupOp, kafkaEnv, publishGlobal, sendOps, startEmulator, startWriter, userOp, wipeRedis, type EmulatorProcess, type Env } from './harness.js';

const PRESENT = new Set(['CREATED', 'UPDATED', 'NOOP', 'RESTORED']);

/**
 * SIGKILL mid-batch. Every $batch answer is delayed 300 ms after Graph applied it, so a kill lands
 * while writes are applied but unanswered (the uncertain case). The writer is killed twice (the
 * second time its Redis state is wiped too) and restarted; afterwards the exported tenant holds
 * exactly one object per anchor (no twin) and every op has a terminal result (no lost op), with
 * duplicate results (at-least-once) only when identical in effect.
 */
describe('a writer killed mid-batch', () => {
  let em: EmulatorProcess;
  let env: Env;
  let writer: SpawnedService | undefined;
  const extra = { CANOPY_WRITER__MEMBER_RETRIES: '6', CANOPY_WRITER__MEMBER_BACKOFF: '500ms', CANOPY_WRITER__REPLICATION_WAIT: '2s' };

  beforeAll(async () => {
    em = await startEmulator({ faults: { slowRate: 1, slowMs: 300, pathPattern: '^/\\$batch$' } });
    env = await kafkaEnv({ opsPartitions: 4 });
    await publishGlobal(env, em);
  }, 60_000);

  afterAll(async () => {
    await writer?.stop('SIGTERM');
    await env?.close();
    await em?.stop();
  });

  it('leaves no twin and loses no op', async () => {
    const users = Array.from({ length: 300 }, (_, i) => userOp(em, anchorOf(`k${i}`)));
    const groups = Array.from({ length: 15 }, (_, i) => groupOp(anchorOf(`kg${i}`), users.slice(i * 20, i * 20 + 20).map((u) => u.sourceAnchor)));
    const ops = [...users, ...groups];
    const have = () => new Set(env.results.filter((r) => r.opId && ops.some((o) => o.opId === r.opId)).map((r) => r.opId)).size;

    writer = await startWriter(env, em, extra);
    await sendOps(env, ops);
    await waitFor('a quarter of the results', () => have() >= 80, { timeoutMs: 60_000, intervalMs: 20 }).catch((err: Error) => {
      throw new Error(`${err.message} (have ${have()})\n${writer!.lines.slice(-40).join('\n')}`);
    });
    await writer.stop('SIGKILL');
    const atFirstKill = have();

    writer = await startWriter(env, em, extra);
    await waitFor('more results', () => have() >= atFirstKill + 80, { timeoutMs: 90_000, intervalMs: 20 });
    await writer.stop('SIGKILL');
    const atSecondKill = have();
    await wipeRedis(env.redis, env.redisPrefix);

    writer = await startWriter(env, em, extra);
    const results = await allResults(env, ops, 180_000).catch((err: Error) => {
      const got = new Set(env.results.map((r) => r.opId));
      const missing = ops.filter((o) => !got.has(o.opId)).map((o) => `${o.targetType}:${o.sourceAnchor}`);
      throw new Error(`${err.message}: missing ${missing.length} (${missing.slice(0, 5).join(', ')})\n${writer!.lines.filter((l) => !l.includes('"level":30')).slice(-40).join('\n')}`);
    });

    // No lost op: each has a terminal result; duplicates only when identical in effect.
    let duplicates = 0;
    for (const op of ops) {
      const rs = results.get(op.opId)!;
      expect(rs.length).toBeGreaterThanOrEqual(1);
      duplicates += rs.length - 1;
      const effects = new Set(rs.map((r: SyncResult) => (PRESENT.has(r.outcome) ? 'present' : r.outcome)));
      expect([...effects], `${op.opId}: ${rs.map((r) => `${r.outcome} ${r.reason ?? ''}`).join(' | ')}`).toEqual(['present']);
      expect(new Set(rs.map((r) => r.entraId)).size).toBe(1);
    }

    // No twin: one live object per anchor.
    const state = await em.exportState();
    const ext: string = state.directory.extensions.find((e: { name: string }) => e.name.endsWith('_canopyAnchor')).name;
    const perAnchor = new Map<string, number>();
    for (const u of state.directory.users) if (u.state === 'live' && u.props.onPremisesImmutableId) perAnchor.set(u.props.onPremisesImmutableId, (perAnchor.get(u.props.onPremisesImmutableId) ?? 0) + 1);
    for (const g of state.directory.groups) if (g.state === 'live' && g.props[ext]) perAnchor.set(g.props[ext], (perAnchor.get(g.props[ext]) ?? 0) + 1);
    for (const op of ops) expect(perAnchor.get(op.sourceAnchor), op.sourceAnchor).toBe(1);
    expect(state.directory.users.filter((u: { state: string }) => u.state === 'live')).toHaveLength(300);

    // Every group has its 20 members, or its result says which ones were not in Entra in time
    // (never dropped silently). A member written later joins the waiting group at once, unless
    // the Redis wipe lost that wait list (then the next sync of the group adds it).
    let reportedPending = 0;
    for (const g of groups) {
      const rs = results.get(g.opId)!;
      const id = rs[0]!.entraId;
      const rec = state.directory.groups.find((x: { id: string }) => x.id === id);
      const members: string[] = rec.members ?? [];
      if (members.length < 20) {
        const pending = Math.max(...rs.map((r) => Number(/(\d+) member\(s\) not in Entra yet/.exec(r.reason ?? '')?.[1] ?? 0)));
        expect(members.length + pending, `${g.sourceAnchor}: ${rs.map((r) => r.reason).join(' | ')}`).toBeGreaterThanOrEqual(20);
        reportedPending += 20 - members.length;
      }
    }
    console.log(`[measure] killed at ${atFirstKill} and ${atSecondKill} (with Redis wiped) of ${ops.length} ops: ${duplicates} duplicate results, 0 twins, 0 lost ops, ${reportedPending} members reported not-yet-in-Entra`);
  }, 400_000);

  it('never recreates after a create that timed out although Graph applied it', async () => {
    // Every other $batch is answered 1.5 s late, after Graph applied it; the writer gives up after 500 ms.
    await em.admin('PATCH', '/config', { faults: { slowRate: 0.5, slowMs: 1500, pathPattern: '^/\\$batch$', seed: 7 } });
    await writer?.stop('SIGTERM');
    writer = await startWriter(env, em, { ...extra, CANOPY_GRAPH__REQUEST_TIMEOUT: '500ms' });
    const users = Array.from({ length: 60 }, (_, i) => userOp(em, anchorOf(`t${i}`)));
    await sendOps(env, users);
    const results = await allResults(env, users, 120_000);
    for (const u of users) expect(results.get(u.opId)!.map((r) => r.outcome)).toEqual(['CREATED']);
    const state = await em.exportState();
    for (const u of users) {
      expect(state.directory.users.filter((x: { state: string; props: Record<string, unknown> }) => x.state === 'live' && x.props.onPremisesImmutableId === u.sourceAnchor)).toHaveLength(1);
    }
    const confirmed = users.filter((u) => /confirmed by lookup/.test(results.get(u.opId)![0]!.reason ?? '')).length;
    expect(confirmed).toBeGreaterThan(0);
    console.log(`[measure] 60 creates, half the answers late past the timeout: ${confirmed} confirmed by lookup after an unanswered create, 0 twins`);
  }, 180_000);
});
