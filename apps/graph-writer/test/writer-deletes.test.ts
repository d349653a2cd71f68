import type { SpawnedService } from '@canopy/test-kit';
import { waitFor } from '@canopy/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allResults,
  anchorOf,
  deleteOp,
  graphCaller,
  kafkaEnv,
  metric,
  publishGlobal,
  resultsOf,
  sendCommand,
  sendOps,
  startEmulator,
  startWriter,
  userOp,
  wipeRedis,
  type EmulatorProcess,
  type Env,
} from './harness.js';

/**
 * Accidental-delete protection with a threshold of 5: the 6th delete of a cycle onwards is held
 * (HELD, not executed) while creates keep flowing; held deletes survive a SIGKILL of the writer
 * and a wipe of its Redis state; an approval executes them (DELETED), a rejection drops them.
 */
describe('held deletes', () => {
  let em: EmulatorProcess;
  let env: Env;
  let writer: SpawnedService;
  let graph: Awaited<ReturnType<typeof graphCaller>>;

  beforeAll(async () => {
    em = await startEmulator();
    env = await kafkaEnv();
    graph = await graphCaller(em);
    await publishGlobal(env, em, { deletes: { threshold: 5, window: '1h' } });
    writer = await startWriter(env, em);
  }, 120_000);

  afterAll(async () => {
    await writer?.stop('SIGTERM');
    await env?.close();
    await em?.stop();
  });

  it('holds deletes beyond the threshold, keeps creates flowing, survives a crash and a Redis wipe, and executes them on approval', async () => {
    const users = Array.from({ length: 10 }, (_, i) => userOp(em, anchorOf(`d${i}`)));
    await sendOps(env, users);
    const created = await allResults(env, users);
    const idOf = new Map(users.map((u) => [u.sourceAnchor, created.get(u.opId)![0]!.entraId!]));

    const deletes = users.map((u) => deleteOp(u, { cycleId: 'cycle-1' }));
    const newcomer = userOp(em, anchorOf('newcomer'));
    await sendOps(env, [...deletes, newcomer]);
    const first = await allResults(env, [...deletes, newcomer]);
    const outcomes = deletes.map((d) => first.get(d.opId)![0]!.outcome);
    expect(outcomes.filter((o) => o === 'DELETED')).toHaveLength(5);
    expect(outcomes.filter((o) => o === 'HELD')).toHaveLength(5);
    expect(first.get(newcomer.opId)![0]!.outcome).toBe('CREATED');
    const held = deletes.filter((d) => first.get(d.opId)![0]!.outcome === 'HELD');
    expect(first.get(held[0]!.opId)![0]!.reason).toMatch(/accidental-delete protection.*threshold \(5\)/);
    for (const h of held) expect((await graph('GET', `/users/${idOf.get(h.sourceAnchor)}`)).status).toBe(200);
    expect(await metric(writer, 'canopy_graph_writer_held_deletes')).toBe(5);

    // Crash, lose Redis, come back: the held deletes are still there (Kafka is the record).
    await writer.stop('SIGKILL');
    await wipeRedis(env.redis, env.redisPrefix);
    writer = await startWriter(env, em);
    await waitFor('held deletes reloaded', async () => (await metric(writer, 'canopy_graph_writer_held_deletes')) === 5, { timeoutMs: 20_000 });

    const cmd = await sendCommand(env, { command: 'APPROVE_DELETES', forest: 'corp.example.test' });
    await waitFor('approval completed', () => env.acks.find((a) => a.commandId === cmd.commandId && a.status === 'COMPLETED'), { timeoutMs: 60_000 });
    for (const h of held) {
      const rs = resultsOf(env, h.opId).map((r) => r.outcome);
      expect(rs).toContain('HELD');
      expect(rs[rs.length - 1]).toBe('DELETED');
      expect((await graph('GET', `/users/${idOf.get(h.sourceAnchor)}`)).status).toBe(404);
      expect((await graph('GET', `/directory/deletedItems/${idOf.get(h.sourceAnchor)}`)).status).toBe(200);
    }
    expect(await metric(writer, 'canopy_graph_writer_held_deletes')).toBe(0);
    const ack = env.acks.find((a) => a.commandId === cmd.commandId && a.status === 'COMPLETED')!;
    expect(ack.details).toMatchObject({ processed: '5', failed: '0' });
  }, 180_000);

  it('drops held deletes on rejection: the objects stay', async () => {
    const users = Array.from({ length: 7 }, (_, i) => userOp(em, anchorOf(`r${i}`)));
    await sendOps(env, users);
    const created = await allResults(env, users);
    const deletes = users.map((u) => deleteOp(u, { cycleId: 'cycle-2' }));
    await sendOps(env, deletes);
    const res = await allResults(env, deletes);
    const held = deletes.filter((d) => res.get(d.opId)![0]!.outcome === 'HELD');
    expect(held).toHaveLength(2);
    const cmd = await sendCommand(env, { command: 'REJECT_DELETES', forest: 'corp.example.test', issuedBy: 'jane.admin' });
    await waitFor('rejection completed', () => env.acks.find((a) => a.commandId === cmd.commandId && a.status === 'COMPLETED'), { timeoutMs: 30_000 });
    for (const h of held) {
      const last = resultsOf(env, h.opId).at(-1)!;
      expect(last).toMatchObject({ outcome: 'NOOP', writes: 0 });
      expect(last.reason).toMatch(/rejected by jane\.admin/);
      const id = created.get(users.find((u) => u.sourceAnchor === h.sourceAnchor)!.opId)![0]!.entraId;
      expect((await graph('GET', `/users/${id}`)).status).toBe(200);
    }
  }, 120_000);
});
