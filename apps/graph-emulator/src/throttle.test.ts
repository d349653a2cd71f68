import { describe, expect, it } from 'vitest';
import { manualClock } from './clock.js';
import { DEFAULT_THROTTLE, SlidingWindow, Throttler, requestCost } from './throttle.js';

const q = (s = '') => new URLSearchParams(s);

describe('request costs (identity and access table)', () => {
  it('prices reads and writes as documented', () => {
    expect(requestCost({ method: 'GET', path: '/users', query: q() })).toBe(2);
    expect(requestCost({ method: 'GET', path: '/users/x', query: q('$select=id') })).toBe(1);
    expect(requestCost({ method: 'GET', path: '/groups/x/members', query: q() })).toBe(3);
    expect(requestCost({ method: 'GET', path: '/groups/x/members', query: q('$select=id&$top=5') })).toBe(1);
    expect(requestCost({ method: 'GET', path: '/groups', query: q('$top=5') })).toBe(1);
    expect(requestCost({ method: 'GET', path: '/users', query: q('$expand=manager') })).toBe(3);
    expect(requestCost({ method: 'POST', path: '/users', query: q() })).toBe(1);
    expect(requestCost({ method: 'PATCH', path: '/groups/x', query: q() })).toBe(1);
  });
});

describe('sliding windows', () => {
  it('forgets usage after the window and says how long to wait', () => {
    const w = new SlidingWindow(() => 1000);
    w.add(0, 5);
    w.add(500, 5);
    expect(w.used(999)).toBe(10);
    expect(w.waitFor(999, 1, 10)).toBe(1);
    expect(w.used(1000)).toBe(5);
    const w2 = new SlidingWindow(() => 1000);
    w2.add(0, 5);
    w2.add(500, 5);
    expect(w2.waitFor(600, 4, 10)).toBe(400); // once the first entry leaves
    expect(w2.waitFor(600, 6, 10)).toBe(900); // needs both to leave
  });
});

describe('Throttler', () => {
  it('uses the tenant-size tier for resource units and scales with multiplier and time scale', () => {
    const clock = manualClock(0);
    let users = 10;
    const t = new Throttler(clock, { ...DEFAULT_THROTTLE }, 'tid', () => users);
    expect(t.limits().resourceUnits).toBe(3500);
    users = 50;
    expect(t.limits().resourceUnits).toBe(5000);
    users = 501;
    expect(t.limits().resourceUnits).toBe(8000);
    t.settings = { ...t.settings, quotaMultiplier: 10, timeScale: 0.1 };
    expect(t.limits()).toMatchObject({ resourceUnits: 80000, appWrites: 30000, tenantWrites: 180000, ruWindowMs: 1000, appWriteWindowMs: 15000 });
    expect(t.quotaHeader()).toBe('multiplier=10;timescale=0.1');
  });

  it('counts throttled attempts too, so retrying early extends the wait', () => {
    const clock = manualClock(0);
    const t = new Throttler(clock, { ...DEFAULT_THROTTLE, quotaMultiplier: 0.001 }, 'tid', () => 1); // 3 writes / 150 s
    const w = { method: 'POST', path: '/groups', query: q() };
    expect([t.check('a', w), t.check('a', w), t.check('a', w)].every((d) => !d.throttled)).toBe(true);
    const d = t.check('a', w);
    expect(d).toMatchObject({ throttled: true, information: 'WriteLimitExceeded', retryAfterSeconds: 150 });
    clock.advance(100_000);
    for (let i = 0; i < 3; i++) expect(t.check('a', w).throttled).toBe(true); // early retries, counted
    clock.advance(50_000); // Retry-After has passed, but the early retries now fill the window
    const again = t.check('a', w);
    expect(again.throttled).toBe(true);
    expect(again.retryAfterSeconds).toBe(100);
    clock.advance(100_000);
    expect(t.check('a', w).throttled).toBe(false);
    expect(t.check('b', w).throttled).toBe(false); // another app has its own window
  });

  it('a time scale shortens the windows and Retry-After with them', () => {
    const clock = manualClock(0);
    const t = new Throttler(clock, { ...DEFAULT_THROTTLE, quotaMultiplier: 0.001, timeScale: 0.1 }, 'tid', () => 1);
    const w = { method: 'DELETE', path: '/users/x', query: q() };
    for (let i = 0; i < 3; i++) expect(t.check('a', w).throttled).toBe(false);
    expect(t.check('a', w)).toMatchObject({ throttled: true, retryAfterSeconds: 15, scope: 'Tenant_Application/Write/a/tid' });
    clock.advance(15_000);
    expect(t.check('a', w).throttled).toBe(false);
  });
});
