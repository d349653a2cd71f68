import { describe, expect, it } from 'vitest';
import type { Logger } from '@canopy/logger';
import type { GraphClient } from '../graph/graph-client.js';
import type { ThrottleGate } from '../rate/throttle-gate.js';
import type { WriteQuota } from '../rate/write-quota.js';
import { BatchExecutor, batchBody, packBatches } from './batch-executor.js';

const unit = (n: number, notBefore = 0) => ({ items: Array.from({ length: n }, (_, i) => ({ method: 'PATCH' as const, path: `/users/${i}`, body: { a: i }, idempotent: true })), notBefore });

describe('$batch packing', () => {
  it('packs at most 20 requests per batch, first in first out', () => {
    const q = Array.from({ length: 45 }, () => unit(1));
    const { batches, rest } = packBatches(q, 0);
    expect(batches.map((b) => b.length)).toEqual([20, 20, 5]);
    expect(rest).toEqual([]);
  });

  it('never splits a sequence, and leaves units that are not due yet', () => {
    const q = [unit(15), unit(10), unit(3, 1000), unit(5)];
    const { batches, rest } = packBatches(q, 0);
    expect(batches.map((b) => b.map((u) => u.items.length))).toEqual([[15], [10, 5]]);
    expect(rest).toHaveLength(1);
    expect(() => packBatches([unit(21)], 0)).toThrow(/cannot fit/);
  });

  it('stops at the number of free slots', () => {
    const { batches, rest } = packBatches(Array.from({ length: 100 }, () => unit(1)), 0, 20, 2);
    expect(batches).toHaveLength(2);
    expect(rest).toHaveLength(60);
  });

  it('numbers requests and chains a sequence with dependsOn', () => {
    const { requests, index } = batchBody([unit(1), unit(2)]);
    expect(requests.map((r) => r.id)).toEqual(['1', '2', '3']);
    expect(requests[0]!.dependsOn).toBeUndefined();
    expect(requests[1]!.dependsOn).toBeUndefined();
    expect(requests[2]!.dependsOn).toEqual(['2']);
    expect(requests[2]!.headers).toEqual({ 'Content-Type': 'application/json' });
    expect(index).toEqual([
      [0, 0],
      [1, 0],
      [1, 1],
    ]);
  });
});

describe('member adds to one group merge while they wait', () => {
  type Req = { id: string; method: string; url: string; body?: Record<string, string[]> };
  const log = { warn: () => undefined, info: () => undefined, debug: () => undefined } as unknown as Logger;
  const gate = { pause: async () => false } as unknown as ThrottleGate;

  /** A Graph that answers each $batch item with `answer`, and a quota that opens on `release()`. */
  function harness(answer: (r: Req) => { status: number; body?: unknown }) {
    const sent: Req[][] = [];
    let release!: () => void;
    const opened = new Promise<void>((r) => (release = r));
    const graph = {
      request: async (spec: { body: { requests: Req[] } }) => {
        sent.push(spec.body.requests);
        return { status: 200, headers: {}, body: { responses: spec.body.requests.map((r) => ({ id: r.id, status: answer(r).status, body: answer(r).body })) } };
      },
    } as unknown as GraphClient;
    const quota = { acquire: async () => (await opened, { granted: true, available: 0, waitMs: 0, paused: false, at: 0, members: [] }), settle: async () => 0 } as unknown as WriteQuota;
    const executor = new BatchExecutor(graph, quota, gate, { lingerMs: 5, maxAttempts: 3, maxInFlight: 1 }, log);
    return { executor, sent, release };
  }
  const add = (group: string, member: string) => ({
    method: 'PATCH' as const,
    path: `/groups/${group}`,
    body: { 'members@odata.bind': [`https://graph/v1.0/directoryObjects/${member}`] },
    idempotent: false,
    addsMemberTo: group,
  });

  it('packs up to 20 adds to one group into one write; other groups and other writes stay apart', async () => {
    const { executor, sent, release } = harness(() => ({ status: 204 }));
    const first = executor.submit({ method: 'PATCH', path: '/users/u0', body: { a: 1 }, idempotent: true });
    await new Promise((r) => setTimeout(r, 20)); // the first batch is out, waiting for the quota
    const adds = [...Array.from({ length: 25 }, (_, i) => executor.submit(add('g1', `m${i}`))), executor.submit(add('g2', 'x')), executor.submit(add('g1', 'm3'))];
    release();
    await Promise.all([first, ...adds]);
    const writes = sent.slice(1).flat();
    const g1 = writes.filter((r) => r.url === '/groups/g1').map((r) => r.body!['members@odata.bind']!.length);
    expect(g1).toEqual([20, 5]); // 25 distinct members (m3 asked twice) in 2 writes instead of 26
    expect(writes.filter((r) => r.url === '/groups/g2')).toHaveLength(1);
    expect(executor.merged).toBe(24); // 26 adds to g1 in 2 writes
  });

  it('splits a merged write that fails, so each caller gets its own member\'s answer', async () => {
    // Graph refuses the whole add when one member is already there (or not found): the others must not be told "done".
    const { executor, sent, release } = harness((r) => {
      const members = r.body?.['members@odata.bind'] ?? [];
      if (members.some((m) => m.endsWith('/dup'))) return { status: 400, body: { error: { code: 'Request_BadRequest', message: 'One or more added object references already exist for the following modified properties: \'members\'.' } } };
      if (members.some((m) => m.endsWith('/ghost'))) return { status: 404, body: { error: { code: 'Request_ResourceNotFound', message: 'not found' } } };
      return { status: 204 };
    });
    const first = executor.submit({ method: 'PATCH', path: '/users/u0', body: { a: 1 }, idempotent: true });
    await new Promise((r) => setTimeout(r, 20));
    const outcomes = ['a', 'dup', 'b', 'ghost', 'c'].map((m) =>
      executor.submit(add('g1', m)).then(
        () => `${m}:ok`,
        (e: Error & { details?: { httpStatus?: number } }) => `${m}:${e.details?.httpStatus}`,
      ),
    );
    release();
    await first;
    expect(await Promise.all(outcomes)).toEqual(['a:ok', 'dup:400', 'b:ok', 'ghost:404', 'c:ok']);
    const g1 = sent.flat().filter((r) => r.url === '/groups/g1').map((r) => r.body!['members@odata.bind']!.length);
    expect(g1).toEqual([5, 1, 1, 1, 1, 1]); // one merged try, then each alone
  });
});
