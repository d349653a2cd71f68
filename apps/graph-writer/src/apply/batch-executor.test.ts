import { describe, expect, it } from 'vitest';
import { batchBody, packBatches } from './batch-executor.js';

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
