import { describe, expect, it } from 'vitest';
import { minimalWrites, percentile, writeAmplification } from './stats.js';

describe('percentile (nearest rank)', () => {
  it('picks the value at ceil(p * n), whatever the input order', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 95)).toBe(95);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile(xs, 0)).toBe(1);
  });
  it('is the single value of a one-element list, NaN for none', () => {
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('write amplification', () => {
  const work = { creates: 100, changedUpdates: 10, memberAddsPerGroup: [20, 21, 0, 45], removes: 5 };
  it('counts member adds 20 per write, per group', () => {
    expect(minimalWrites(work)).toBe(100 + 10 + (1 + 2 + 0 + 3) + 5);
  });
  it('is writes issued over the minimum', () => {
    expect(writeAmplification(121, work)).toBe(1);
    expect(writeAmplification(242, work)).toBe(2);
    expect(writeAmplification(5, { creates: 0, changedUpdates: 0, memberAddsPerGroup: [], removes: 0 })).toBeNaN();
  });
});
