import type { Clock } from './clock.js';

/**
 * Microsoft Graph identity-and-access throttling, as documented on
 * learn.microsoft.com/graph/throttling-limits (read 2026-11):
 * - resource units per app per tenant per 10 s: 3,500 (<50 users), 5,000 (50-500), 8,000 (>500);
 * - writes per app per tenant: 3,000 per 150 s; writes per tenant across apps: 18,000 per 5 min;
 * - costs: GET users 2, GET groups/{id}/members 3, other identity paths 1; $select -1, $expand +1,
 *   $top < 20 -1, never below 1. POST/PATCH/PUT/DELETE are one write each.
 * Throttled requests still count ("usage keeps counting while throttled").
 * Windows are sliding; a time scale shortens them and a multiplier raises the limits for tests,
 * and both are shown on every response (x-canopy-emulator-quota).
 */
export interface ThrottleSettings {
  /** Multiply every limit (tests); 1 = Microsoft's numbers. */
  quotaMultiplier: number;
  /** Multiply every window length (0.1 = ten times faster); 1 = Microsoft's windows. */
  timeScale: number;
  /** Tenant size for the resource-unit limit; 'auto' counts users. */
  tenantSize: 'auto' | 'small' | 'medium' | 'large';
  enabled: boolean;
}

export const DEFAULT_THROTTLE: ThrottleSettings = { quotaMultiplier: 1, timeScale: 1, tenantSize: 'auto', enabled: true };

export const RU_LIMITS = { small: 3500, medium: 5000, large: 8000 } as const;
export const RU_WINDOW_MS = 10_000;
export const APP_WRITE_LIMIT = 3000;
export const APP_WRITE_WINDOW_MS = 150_000;
export const TENANT_WRITE_LIMIT = 18_000;
export const TENANT_WRITE_WINDOW_MS = 300_000;

/** A sliding-window sum: entries older than the window fall out. */
export class SlidingWindow {
  private times: number[] = [];
  private amounts: number[] = [];
  private head = 0;
  private sum = 0;

  constructor(private windowMs: () => number) {}

  private prune(now: number): void {
    const cutoff = now - this.windowMs();
    while (this.head < this.times.length && this.times[this.head]! <= cutoff) {
      this.sum -= this.amounts[this.head]!;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.amounts = this.amounts.slice(this.head);
      this.head = 0;
    }
  }

  used(now: number): number {
    this.prune(now);
    return this.sum;
  }

  add(now: number, amount: number): void {
    this.prune(now);
    this.times.push(now);
    this.amounts.push(amount);
    this.sum += amount;
  }

  /** Milliseconds until `amount` more would fit under `limit` (0 if it fits now). */
  waitFor(now: number, amount: number, limit: number): number {
    this.prune(now);
    let sum = this.sum;
    if (sum + amount <= limit) return 0;
    for (let i = this.head; i < this.times.length; i++) {
      sum -= this.amounts[i]!;
      if (sum + amount <= limit) return Math.max(1, this.times[i]! + this.windowMs() - now);
    }
    return this.windowMs();
  }
}

export interface ThrottleDecision {
  throttled: boolean;
  cost: number;
  retryAfterSeconds?: number;
  scope?: string;
  information?: string;
  limitPercentage?: number;
}

export interface CostInput {
  method: string;
  /** Path below /v1.0, without query, e.g. /users/123 or /groups/1/members. */
  path: string;
  query: URLSearchParams;
}

/** Resource-unit cost of one request, per the documented table. */
export function requestCost({ method, path, query }: CostInput): number {
  const segs = path.split('/').filter(Boolean);
  let cost = 1;
  if (method === 'GET') {
    if (segs[0] === 'users') cost = 2;
    if (segs[0] === 'groups' && segs[2] === 'members') cost = 3;
    if (segs[0] === 'groups' && segs[2] === 'transitiveMembers') cost = 5;
    if (segs[0] === 'applications') cost = 2;
    if (query.has('$select')) cost -= 1;
    if (query.has('$expand')) cost += 1;
    const top = query.get('$top');
    if (top !== null && Number(top) < 20) cost -= 1;
  }
  return Math.max(1, cost);
}

export const isWrite = (method: string): boolean => method === 'POST' || method === 'PATCH' || method === 'PUT' || method === 'DELETE';

export class Throttler {
  private ru = new Map<string, SlidingWindow>();
  private appWrites = new Map<string, SlidingWindow>();
  private tenantWrites: SlidingWindow;

  constructor(
    private clock: Clock,
    public settings: ThrottleSettings,
    private tenantId: string,
    private userCount: () => number,
  ) {
    this.tenantWrites = new SlidingWindow(() => TENANT_WRITE_WINDOW_MS * this.settings.timeScale);
  }

  reset(): void {
    this.ru.clear();
    this.appWrites.clear();
    this.tenantWrites = new SlidingWindow(() => TENANT_WRITE_WINDOW_MS * this.settings.timeScale);
  }

  tier(): 'small' | 'medium' | 'large' {
    if (this.settings.tenantSize !== 'auto') return this.settings.tenantSize;
    const n = this.userCount();
    return n < 50 ? 'small' : n <= 500 ? 'medium' : 'large';
  }

  limits(): { resourceUnits: number; appWrites: number; tenantWrites: number; ruWindowMs: number; appWriteWindowMs: number; tenantWriteWindowMs: number } {
    const m = this.settings.quotaMultiplier;
    const t = this.settings.timeScale;
    return {
      resourceUnits: Math.round(RU_LIMITS[this.tier()] * m),
      appWrites: Math.round(APP_WRITE_LIMIT * m),
      tenantWrites: Math.round(TENANT_WRITE_LIMIT * m),
      ruWindowMs: RU_WINDOW_MS * t,
      appWriteWindowMs: APP_WRITE_WINDOW_MS * t,
      tenantWriteWindowMs: TENANT_WRITE_WINDOW_MS * t,
    };
  }

  /** The header value that marks non-default quotas on every response. */
  quotaHeader(): string {
    return `multiplier=${this.settings.quotaMultiplier};timescale=${this.settings.timeScale}`;
  }

  /** Count one request for `appId` and say whether it is throttled. */
  check(appId: string, input: CostInput): ThrottleDecision {
    const cost = requestCost(input);
    if (!this.settings.enabled) return { throttled: false, cost };
    const now = this.clock.now();
    const lim = this.limits();
    const write = isWrite(input.method);
    let ru = this.ru.get(appId);
    if (!ru) this.ru.set(appId, (ru = new SlidingWindow(() => RU_WINDOW_MS * this.settings.timeScale)));
    let aw = this.appWrites.get(appId);
    if (!aw) this.appWrites.set(appId, (aw = new SlidingWindow(() => APP_WRITE_WINDOW_MS * this.settings.timeScale)));

    // Usage counts whether or not the request is served: the attempt is recorded first, then the
    // wait says when the same request would fit again counting this attempt too.
    const ruOver = ru.used(now) + cost > lim.resourceUnits;
    const awOver = write && aw.used(now) + 1 > lim.appWrites;
    const twOver = write && this.tenantWrites.used(now) + 1 > lim.tenantWrites;
    ru.add(now, cost);
    if (write) {
      aw.add(now, 1);
      this.tenantWrites.add(now, 1);
    }
    const ruWait = ruOver ? ru.waitFor(now, cost, lim.resourceUnits) : 0;
    const awWait = awOver ? aw.waitFor(now, 1, lim.appWrites) : 0;
    const twWait = twOver ? this.tenantWrites.waitFor(now, 1, lim.tenantWrites) : 0;
    const pct = ru.used(now) / lim.resourceUnits;
    const limitPercentage = pct > 0.8 ? Math.min(1.8, Math.round(pct * 100) / 100) : undefined;
    const retry = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));
    if (twWait > 0) {
      return { throttled: true, cost, retryAfterSeconds: retry(twWait), scope: `Tenant/Write/${appId}/${this.tenantId}`, information: 'WriteLimitExceeded', limitPercentage };
    }
    if (awWait > 0) {
      return { throttled: true, cost, retryAfterSeconds: retry(awWait), scope: `Tenant_Application/Write/${appId}/${this.tenantId}`, information: 'WriteLimitExceeded', limitPercentage };
    }
    if (ruWait > 0) {
      return { throttled: true, cost, retryAfterSeconds: retry(ruWait), scope: `Tenant_Application/ReadWrite/${appId}/${this.tenantId}`, information: 'ResourceUnitLimitExceeded', limitPercentage };
    }
    return { throttled: false, cost, limitPercentage };
  }
}
