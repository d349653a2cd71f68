import { describe, expect, it } from 'vitest';
import { settleInWindows, takeFromWindows, windowLimits, type Grant, type WindowLimit } from './write-quota.js';

const QUOTA = { writesPerWindow: 3000, window: 150_000, tenantWritesPerFiveMinutes: 18_000 };

/** Most writes any sliding window (t - windowMs, t] saw, over a list of grants in time order. */
function maxInAnyWindow(grants: Grant[], windowMs: number): number {
  let max = 0;
  let sum = 0;
  for (let i = 0, j = 0; i < grants.length; i++) {
    sum += grants[i]!.n;
    while (grants[j]!.at <= grants[i]!.at - windowMs) sum -= grants[j++]!.n;
    max = Math.max(max, sum);
  }
  return max;
}

/** Small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('write quota windows', () => {
  it("are Microsoft's two windows at quotaSafety, the tenant one scaled like the app one", () => {
    expect(windowLimits(QUOTA)).toEqual([
      { limit: 2910, windowMs: 150_000 },
      { limit: 17_460, windowMs: 300_000 },
    ]);
    expect(windowLimits(QUOTA, 1)).toEqual([
      { limit: 3000, windowMs: 150_000 },
      { limit: 18_000, windowMs: 300_000 },
    ]);
    // The tests' time-scaled quota: 300 per 15 s, 1,800 per 30 s.
    expect(windowLimits({ writesPerWindow: 300, window: 15_000, tenantWritesPerFiveMinutes: 1800 }, 0.97)).toEqual([
      { limit: 291, windowMs: 15_000 },
      { limit: 1746, windowMs: 30_000 },
    ]);
    // Never a window that can grant nothing.
    expect(windowLimits({ writesPerWindow: 1, window: 1_000, tenantWritesPerFiveMinutes: 1 }, 0.5)[0]!.limit).toBe(1);
  });
});

describe('sliding-window log arithmetic (model of the Lua script)', () => {
  const one: WindowLimit[] = [{ limit: 10, windowMs: 1_000 }];

  it('grants up to the limit, then waits', () => {
    let s = takeFromWindows([], 0, 4, one);
    expect(s).toMatchObject({ granted: true, waitMs: 0, available: 6 });
    s = takeFromWindows(s.logs, 100, 4, one);
    expect(s).toMatchObject({ granted: true, available: 2 });
    const refused = takeFromWindows(s.logs, 200, 4, one);
    // 8 + 4 > 10: the grant of t=0 must leave the window first, at t=1000.
    expect(refused).toMatchObject({ granted: false, waitMs: 800, available: 2 });
    expect(refused.logs[0]).toEqual(s.logs[0]); // a refusal records nothing
    s = takeFromWindows(s.logs, 200, 2, one);
    expect(s).toMatchObject({ granted: true, available: 0 });
    expect(takeFromWindows(s.logs, 999, 1, one)).toMatchObject({ granted: false, waitMs: 1 });
    // At t=1000 the grant of t=0 is out of (0, 1000]: its 4 are free again, and only those.
    s = takeFromWindows(s.logs, 1_000, 4, one);
    expect(s).toMatchObject({ granted: true, available: 0 });
    expect(takeFromWindows(s.logs, 1_000, 1, one)).toMatchObject({ granted: false, waitMs: 100 });
  });

  it('the wait is the time until the oldest grant that must go has left the window', () => {
    let logs: Grant[][] = [];
    for (const at of [0, 100, 200]) logs = takeFromWindows(logs, at, 3, one).logs;
    // 9 in the window; 7 more need 6 freed: the grants of t=0 and t=100, so t=1100.
    const r = takeFromWindows(logs, 300, 7, one);
    expect(r).toMatchObject({ granted: false, waitMs: 800 });
    expect(takeFromWindows(logs, 300 + r.waitMs - 1, 7, one)).toMatchObject({ granted: false, waitMs: 1 });
    expect(takeFromWindows(logs, 300 + r.waitMs, 7, one)).toMatchObject({ granted: true, available: 0 });
    // More than the limit at once never fits: the wait is a whole window (callers split).
    expect(takeFromWindows([], 0, 11, one)).toMatchObject({ granted: false, waitMs: 1_000 });
  });

  it('with two windows, the tighter one binds', () => {
    const two: WindowLimit[] = [
      { limit: 10, windowMs: 1_000 },
      { limit: 15, windowMs: 2_000 },
    ];
    let s = takeFromWindows([], 0, 10, two);
    expect(s).toMatchObject({ granted: true, available: 0 });
    // t=1000: the short window is empty again, but the long one still holds 10 of 15.
    expect(takeFromWindows(s.logs, 1_000, 10, two)).toMatchObject({ granted: false, waitMs: 1_000, available: 5 });
    s = takeFromWindows(s.logs, 1_000, 5, two);
    expect(s).toMatchObject({ granted: true, available: 0 });
    // t=1500: the short window has room (5), the long one none until t=2000.
    expect(takeFromWindows(s.logs, 1_500, 1, two)).toMatchObject({ granted: false, waitMs: 500 });
    // Both full: the longer of the two waits wins.
    const skew: WindowLimit[] = [
      { limit: 10, windowMs: 1_000 },
      { limit: 15, windowMs: 2_500 },
    ];
    let k = takeFromWindows([], 0, 5, skew);
    k = takeFromWindows(k.logs, 1_000, 10, skew);
    expect(k.granted).toBe(true);
    // At t=1200 the short window frees 5 when the grant of t=1000 leaves (t=2000), the long one
    // when the grant of t=0 leaves (t=2500).
    expect(takeFromWindows(k.logs, 1_200, 5, skew)).toMatchObject({ granted: false, waitMs: 1_300 });
    s = takeFromWindows(s.logs, 2_000, 5, two);
    expect(s).toMatchObject({ granted: true, available: 5 });
    // Only the grants still inside each window are kept: (1000, 2000] and (0, 2000].
    expect(s.logs[0]!.map((g) => g.at)).toEqual([2_000]);
    expect(s.logs[1]!.map((g) => g.at)).toEqual([1_000, 2_000]);
  });

  it('a settled grant stays in the window until its answer time + window', () => {
    let s = takeFromWindows([], 0, 10, one);
    const logs = settleInWindows(s.logs, { at: 0, n: 10 }, 300);
    expect(logs[0]).toEqual([{ at: 300, n: 10 }]);
    expect(takeFromWindows(logs, 1_000, 1, one)).toMatchObject({ granted: false, waitMs: 300 });
    s = takeFromWindows(logs, 1_300, 10, one);
    expect(s.granted).toBe(true);
    // Settled after it had left the log: put back (in time order).
    const back = settleInWindows([[{ at: 1_300, n: 10 }]], { at: 0, n: 2 }, 1_200);
    expect(back[0]).toEqual([
      { at: 1_200, n: 2 },
      { at: 1_300, n: 10 },
    ]);
  });

  it('with answers arriving late, the windows Graph counts in (between grant and answer) never exceed the limit', () => {
    const limits: WindowLimit[] = [
      { limit: 50, windowMs: 1_000 },
      { limit: 120, windowMs: 3_000 },
    ];
    for (const seed of [7, 8, 9, 10, 11]) {
      const rand = rng(seed);
      let logs: Grant[][] = [];
      const pending: Array<{ grant: Grant; answeredAt: number }> = [];
      const counted: Grant[] = [];
      let now = 0;
      let bare: Grant[][] = [];
      const bareCounted: Grant[] = [];
      while (now < 60_000) {
        now += Math.floor(rand() * 40);
        pending.sort((x, y) => x.answeredAt - y.answeredAt);
        while (pending.length && pending[0]!.answeredAt <= now) {
          const p = pending.shift()!;
          logs = settleInWindows(logs, p.grant, p.answeredAt);
        }
        const n = 1 + Math.floor(rand() * 20);
        // The request's latency; Graph counts each write somewhere between grant and answer.
        const latency = Math.floor(rand() * 300);
        const r = takeFromWindows(logs, now, n, limits);
        if (r.granted) {
          logs = r.logs;
          pending.push({ grant: { at: now, n }, answeredAt: now + latency });
          for (let i = 0; i < n; i++) counted.push({ at: now + Math.floor(rand() * (latency + 1)), n: 1 });
        } else {
          logs = r.logs;
        }
        // The same run without settling, for contrast.
        const rb = takeFromWindows(bare, now, n, limits);
        bare = rb.logs;
        if (rb.granted) for (let i = 0; i < n; i++) bareCounted.push({ at: now + Math.floor(rand() * (latency + 1)), n: 1 });
      }
      counted.sort((x, y) => x.at - y.at);
      bareCounted.sort((x, y) => x.at - y.at);
      for (const l of limits) expect(maxInAnyWindow(counted, l.windowMs)).toBeLessThanOrEqual(l.limit);
      // Without settle, Graph's windows do overflow (what the writer saw as 429s).
      expect(Math.max(...limits.map((l) => maxInAnyWindow(bareCounted, l.windowMs) - l.limit))).toBeGreaterThan(0);
      const total = counted.reduce((s, g) => s + g.n, 0);
      expect(total).toBeGreaterThan(0.85 * 120 * (now / 3_000));
    }
  });

  it('in a randomized run no window ever holds more than its limit, and a wait is exact', () => {
    const limits: WindowLimit[] = [
      { limit: 50, windowMs: 1_000 },
      { limit: 120, windowMs: 3_000 },
    ];
    for (const seed of [1, 2, 3, 42, 1234]) {
      const rand = rng(seed);
      let logs: Grant[][] = [];
      const grants: Grant[] = [];
      let now = 0;
      let exactChecks = 0;
      while (now < 60_000) {
        now += Math.floor(rand() * 40);
        const n = 1 + Math.floor(rand() * 20);
        const r = takeFromWindows(logs, now, n, limits);
        if (r.granted) {
          grants.push({ at: now, n });
          logs = r.logs;
          continue;
        }
        expect(r.waitMs).toBeGreaterThan(0);
        if (rand() < 0.5) {
          // Nobody else takes in between: one ms early is still refused, the wait itself is granted.
          expect(takeFromWindows(r.logs, now + r.waitMs - 1, n, limits).granted).toBe(false);
          now += r.waitMs;
          const again = takeFromWindows(r.logs, now, n, limits);
          expect(again.granted).toBe(true);
          grants.push({ at: now, n });
          logs = again.logs;
          exactChecks++;
        } else {
          logs = r.logs;
        }
      }
      for (const l of limits) expect(maxInAnyWindow(grants, l.windowMs)).toBeLessThanOrEqual(l.limit);
      expect(exactChecks).toBeGreaterThan(10);
      // Kept busy, the quota is used: the tighter window (120 per 3 s) is nearly full throughout.
      const total = grants.reduce((s, g) => s + g.n, 0);
      expect(total).toBeGreaterThan(0.9 * 120 * (now / 3_000));
    }
  });
});
