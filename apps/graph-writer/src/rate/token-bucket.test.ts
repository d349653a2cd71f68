import { describe, expect, it } from 'vitest';
import { bucketParams, maxWritesInWindow, takeTokens } from './token-bucket.js';

const QUOTA = { writesPerWindow: 3000, window: 150_000, tenantWritesPerFiveMinutes: 18_000 };

describe('token bucket arithmetic', () => {
  it("never lets more than Microsoft's quota through in any sliding window", () => {
    const p = bucketParams(QUOTA, 1, 0.05);
    expect(p.capacity).toBe(150);
    expect(maxWritesInWindow(p, 150_000)).toBeCloseTo(3000, 6);
    const safe = bucketParams(QUOTA, 0.95, 0.05);
    expect(maxWritesInWindow(safe, 150_000)).toBeLessThanOrEqual(2850 + 1e-6);
  });

  it('holds at least one full $batch, and respects the tenant limit when it is the tighter one', () => {
    const tiny = bucketParams({ writesPerWindow: 60, window: 15_000, tenantWritesPerFiveMinutes: 18_000 }, 1, 0.05);
    expect(tiny.capacity).toBe(20);
    expect(maxWritesInWindow(tiny, 15_000)).toBeCloseTo(60, 6);
    const tenantBound = bucketParams({ writesPerWindow: 100_000, window: 150_000, tenantWritesPerFiveMinutes: 18_000 }, 1, 0.05);
    expect(maxWritesInWindow(tenantBound, 300_000)).toBeLessThanOrEqual(18_000 + 1e-6);
  });

  it('grants from a full bucket, refills at the rate, and says how long to wait', () => {
    const p = { capacity: 20, ratePerMs: 0.02 }; // 20 per second
    let s = takeTokens(undefined, 0, 20, p);
    expect(s).toMatchObject({ granted: true, tokens: 0 });
    s = takeTokens(s, 100, 5, p); // 2 tokens refilled
    expect(s).toMatchObject({ granted: false, waitMs: 150 });
    s = takeTokens(s, 250, 5, p);
    expect(s.granted).toBe(true);
    expect(s.tokens).toBeCloseTo(0, 9);
    // never above capacity after a long idle
    expect(takeTokens({ tokens: 0, ts: 0 }, 1e9, 0, p).tokens).toBe(20);
  });

  it('simulated over 10 windows, grants stay within the limit in every window', () => {
    const limit = 300;
    const windowMs = 15_000;
    const p = bucketParams({ writesPerWindow: limit, window: windowMs, tenantWritesPerFiveMinutes: 1e9 }, 1, 0.05);
    let s: { tokens: number; ts: number } | undefined;
    const grants: number[] = [];
    for (let t = 0; t < 10 * windowMs; t += 7) {
      const r = takeTokens(s, t, 20, p);
      s = r;
      if (r.granted) for (let i = 0; i < 20; i++) grants.push(t);
    }
    for (let i = 0, j = 0; i < grants.length; i++) {
      while (grants[j]! <= grants[i]! - windowMs) j++;
      expect(i - j + 1).toBeLessThanOrEqual(limit);
    }
    expect(grants.length).toBeGreaterThan(limit * 9);
  });
});
