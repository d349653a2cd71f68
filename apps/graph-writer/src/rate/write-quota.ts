import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { sleep } from './sleep.js';

/**
 * The write quota shared by every writer replica: one grant of n is n Graph writes.
 *
 * Graph counts writes in sliding windows (3,000 per 150 s per app per tenant; 18,000 per 5 min per
 * tenant across apps) and refuses a write that would put more than the limit into the window
 * that ends with it. This mirrors that exactly: a log of grants per window (a Redis ZSET, score =
 * grant time in ms), and n more are granted only if, for every window, the grants in
 * (now - window, now] plus n stay <= floor(limit * quotaSafety). Otherwise the caller is told how
 * long until enough old grants leave the window. Unlike a token bucket (capacity C and rate r let
 * C + r*W through in any window W, so the steady rate must sit below the limit by the burst), the
 * log can hand out the whole safe limit in every window.
 *
 * Graph counts a write when it processes it, some time between our grant and its answer (a
 * $batch's items one after the other; under load that is hundreds of ms or more). A log stamped
 * only with grant times would let a new grant through the moment an old one leaves our window
 * while Graph, which counted that old write later, still holds it in its own: with a full window
 * that is a 429. So once a request is answered (or given up on), `settle` re-stamps its grant with
 * the answer time, the latest moment Graph can have counted it. Every write Graph counts in any
 * window (T - W, T] was then still in the log when the last of them was granted, so the fleet
 * stays within the limit in Graph's windows too; the price is one request latency per window.
 *
 * Trim, count, check and record happen in one Lua script on Redis' own clock (TIME), so replicas
 * with skewed clocks share one arithmetic. A pause key set after a 429 (see ThrottleGate) makes
 * every acquire wait, on every replica, until Retry-After has passed.
 */
export interface QuotaSettings {
  writesPerWindow: number;
  /** ms */
  window: number;
  tenantWritesPerFiveMinutes: number;
}

/** One sliding window: at most `limit` writes granted in any `windowMs`. */
export interface WindowLimit {
  limit: number;
  windowMs: number;
}

/** Requests per Graph `$batch`. */
export const MAX_BATCH = 20;

/**
 * The windows to enforce: the app window (writesPerWindow per window) and the tenant window
 * (tenantWritesPerFiveMinutes per 5 min, scaled like the app window when it is not 150 s), each
 * at `safety` of the documented limit (at least 1).
 */
export function windowLimits(quota: QuotaSettings, safety = 0.97): WindowLimit[] {
  return [
    { limit: Math.max(1, Math.floor(quota.writesPerWindow * safety)), windowMs: quota.window },
    { limit: Math.max(1, Math.floor(quota.tenantWritesPerFiveMinutes * safety)), windowMs: 300_000 * (quota.window / 150_000) },
  ];
}

/** One grant in a window's log. */
export interface Grant {
  /** ms */
  at: number;
  n: number;
}

export interface TakeResult {
  granted: boolean;
  /** 0 when granted; else ms until enough old grants have left every window that is full. */
  waitMs: number;
  /** Min over the windows of limit - grants in the window (after this grant, if granted). */
  available: number;
  /** The logs after trimming (and recording this grant). */
  logs: Grant[][];
}

/**
 * Pure model of the script's arithmetic (unit-tested; the Lua below does the same steps on the
 * ZSETs). `logs[i]` is window i's log in time order; `now` must not go back.
 */
export function takeFromWindows(logs: ReadonlyArray<readonly Grant[]>, now: number, n: number, limits: readonly WindowLimit[]): TakeResult {
  const kept = limits.map((l, i) => (logs[i] ?? []).filter((g) => g.at > now - l.windowMs));
  const counts = kept.map((log) => log.reduce((s, g) => s + g.n, 0));
  let waitMs = 0;
  limits.forEach((l, i) => {
    const need = counts[i]! + n - l.limit;
    if (need <= 0) return;
    let freed = 0;
    let wait = l.windowMs; // n > limit: never fits
    for (const g of kept[i]!) {
      freed += g.n;
      if (freed >= need) {
        wait = Math.max(1, g.at + l.windowMs - now);
        break;
      }
    }
    waitMs = Math.max(waitMs, wait);
  });
  const granted = waitMs === 0;
  if (granted) {
    for (let i = 0; i < kept.length; i++) {
      kept[i]!.push({ at: now, n });
      counts[i]! += n;
    }
  }
  const available = Math.max(0, Math.min(...limits.map((l, i) => l.limit - counts[i]!)));
  return { granted, waitMs, available, logs: kept };
}

/**
 * Model of settle(): the grant recorded at `grant.at` is re-stamped `now` in every log (put back
 * if it had left it), keeping each log in time order.
 */
export function settleInWindows(logs: ReadonlyArray<readonly Grant[]>, grant: Grant, now: number): Grant[][] {
  return logs.map((log) => {
    const i = log.findIndex((g) => g.at === grant.at && g.n === grant.n);
    const rest = i >= 0 ? [...log.slice(0, i), ...log.slice(i + 1)] : [...log];
    const at = rest.findIndex((g) => g.at > now);
    rest.splice(at < 0 ? rest.length : at, 0, { at: now, n: grant.n });
    return rest;
  });
}

/**
 * KEYS: pause, granted, then per window its log (ZSET) and its running sum.
 * ARGV: n (0 = only look), ttl ms, member id, then per window limit and window ms.
 * Members are "<ms>:<id>:<n>"; the running sum is the sum of the n of the log's members (rebuilt
 * from the log when it is missing, reset when the log is gone).
 * Returns {granted, paused, available, waitMs, now, member}.
 */
const QUOTA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local nwin = (#KEYS - 2) / 2
local function countOf(m)
  return tonumber(string.match(m, ':(%d+)$')) or 1
end
if n > 0 then
  local pause = redis.call('PTTL', KEYS[1])
  if pause > 0 then
    return {0, 1, 0, pause, now}
  end
end
local sums = {}
local wait = 0
local available = nil
for i = 1, nwin do
  local log = KEYS[1 + 2 * i]
  local sumKey = KEYS[2 + 2 * i]
  local limit = tonumber(ARGV[2 + 2 * i])
  local windowMs = tonumber(ARGV[3 + 2 * i])
  local cutoff = now - windowMs
  local sum = tonumber(redis.call('GET', sumKey))
  if sum == nil then
    redis.call('ZREMRANGEBYSCORE', log, '-inf', cutoff)
    sum = 0
    for _, m in ipairs(redis.call('ZRANGE', log, 0, -1)) do sum = sum + countOf(m) end
  else
    local old = redis.call('ZRANGEBYSCORE', log, '-inf', cutoff)
    if #old > 0 then
      for _, m in ipairs(old) do sum = sum - countOf(m) end
      redis.call('ZREMRANGEBYSCORE', log, '-inf', cutoff)
    end
    if sum < 0 or redis.call('EXISTS', log) == 0 then sum = 0 end
  end
  sums[i] = sum
  local need = sum + n - limit
  if n > 0 and need > 0 then
    local w = windowMs
    local freed = 0
    local start = 0
    local done = false
    while not done do
      local page = redis.call('ZRANGE', log, start, start + 99, 'WITHSCORES')
      if #page == 0 then break end
      for j = 1, #page, 2 do
        freed = freed + countOf(page[j])
        if freed >= need then
          w = tonumber(page[j + 1]) + windowMs - now
          if w < 1 then w = 1 end
          done = true
          break
        end
      end
      start = start + 100
    end
    if w > wait then wait = w end
  end
end
local granted = 0
local member = ''
if n > 0 and wait == 0 then
  granted = 1
  member = string.format('%d:%s:%d', now, ARGV[3], n)
  for i = 1, nwin do
    redis.call('ZADD', KEYS[1 + 2 * i], now, member)
    redis.call('PEXPIRE', KEYS[1 + 2 * i], ttl)
    sums[i] = sums[i] + n
  end
  redis.call('INCRBY', KEYS[2], n)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
for i = 1, nwin do
  if redis.call('EXISTS', KEYS[1 + 2 * i]) == 1 then
    redis.call('SET', KEYS[2 + 2 * i], sums[i], 'PX', ttl)
  else
    redis.call('DEL', KEYS[2 + 2 * i])
  end
  local left = tonumber(ARGV[2 + 2 * i]) - sums[i]
  if available == nil or left < available then available = left end
end
if available == nil or available < 0 then available = 0 end
return {granted, 0, available, wait, now, member}
`;

/**
 * Re-stamp granted members with Redis' time now (the request was answered): they stay in every
 * window until then + window. A member already trimmed is put back (and counted again).
 * KEYS: per window its log and its running sum. ARGV: ttl ms, then the members.
 */
const SETTLE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i = 1, #KEYS / 2 do
  local log = KEYS[2 * i - 1]
  local sumKey = KEYS[2 * i]
  for j = 2, #ARGV do
    local m = ARGV[j]
    local known = redis.call('ZSCORE', log, m)
    redis.call('ZADD', log, now, m)
    if not known and redis.call('EXISTS', sumKey) == 1 then
      redis.call('INCRBY', sumKey, tonumber(string.match(m, ':(%d+)$')) or 1)
    end
  end
  redis.call('PEXPIRE', log, ttl)
  if redis.call('EXISTS', sumKey) == 1 then redis.call('PEXPIRE', sumKey, ttl) end
end
return now
`;

export interface AcquireResult {
  granted: boolean;
  /** The log members of this grant (several when acquire took it in parts), for settle(). */
  members: string[];
  /** Writes the quota can still grant (min over the windows), after this grant if granted. */
  available: number;
  waitMs: number;
  /** Refused because a 429 paused every replica (waitMs = what is left of the pause). */
  paused: boolean;
  /** Redis' clock (ms) when the script decided. */
  at: number;
}

let seq = 0;
const INSTANCE = randomBytes(6).toString('hex');

export class WriteQuota {
  #limits: WindowLimit[];

  constructor(
    private readonly redis: Redis,
    /** e.g. canopy:gw:{tenant}:{clientId} */
    private readonly keyPrefix: string,
    limits: WindowLimit[],
  ) {
    this.#limits = checked(limits);
  }

  get limits(): WindowLimit[] {
    return this.#limits;
  }

  /** Hot-reload (global.quota changed). The logs are kept: grants already made still count. */
  setParams(limits: WindowLimit[]): void {
    this.#limits = checked(limits);
  }

  /** The grant log of window `i` (ZSET). */
  windowKey(i: number): string {
    return `${this.keyPrefix}:quota:${i}`;
  }

  get pauseKey(): string {
    return `${this.keyPrefix}:pause`;
  }

  /** Writes granted so far (all replicas), for measurements. Expires 2x the longest window after the last grant. */
  get grantedKey(): string {
    return `${this.keyPrefix}:granted`;
  }

  async tryAcquire(n: number): Promise<AcquireResult> {
    return this.#run(Math.max(1, Math.ceil(n)));
  }

  /** Wait until `n` writes are granted (or `signal` aborts). Calls onWait for every wait. */
  async acquire(n: number, options: { signal?: AbortSignal; onWait?: (r: AcquireResult) => void } = {}): Promise<AcquireResult> {
    const want = Math.min(n, ...this.#limits.map((l) => l.limit));
    for (;;) {
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
      const r = await this.tryAcquire(want);
      if (r.granted) {
        if (n > want) {
          // More than a window's limit at once (only with a tiny quota): take the rest in parts.
          const rest = await this.acquire(n - want, options);
          return { ...rest, members: [...r.members, ...rest.members] };
        }
        return r;
      }
      options.onWait?.(r);
      await sleep(Math.min(Math.max(r.waitMs, 5), 30_000), options.signal);
    }
  }

  /**
   * The requests of this grant were answered (or given up on): from now on Graph has counted
   * them, so they stay in every window until now + window. Returns Redis' time of the stamp.
   */
  async settle(grant: Pick<AcquireResult, 'members'>): Promise<number> {
    if (grant.members.length === 0) return 0;
    const keys = this.#limits.flatMap((_, i) => [this.windowKey(i), `${this.windowKey(i)}:sum`]);
    return Number(await this.redis.eval(SETTLE, keys.length, ...keys, String(this.#ttl()), ...grant.members));
  }

  #ttl(): number {
    return Math.max(1_000, 2 * Math.max(...this.#limits.map((l) => l.windowMs)));
  }

  /** Writes the quota could grant now: min over the windows of limit - grants in the window. */
  async available(): Promise<number> {
    return (await this.#run(0)).available;
  }

  async #run(n: number): Promise<AcquireResult> {
    const limits = this.#limits;
    const ttl = this.#ttl();
    const keys = [this.pauseKey, this.grantedKey, ...limits.flatMap((_, i) => [this.windowKey(i), `${this.windowKey(i)}:sum`])];
    seq = (seq + 1) % 1e9;
    const args = [String(n), String(ttl), `${INSTANCE}-${seq}`, ...limits.flatMap((l) => [String(l.limit), String(l.windowMs)])];
    const res = (await this.redis.eval(QUOTA, keys.length, ...keys, ...args)) as [number, number, number, number, number, string];
    return { granted: res[0] === 1, paused: res[1] === 1, available: Number(res[2]), waitMs: Number(res[3]), at: Number(res[4]), members: res[0] === 1 ? [String(res[5])] : [] };
  }
}

function checked(limits: WindowLimit[]): WindowLimit[] {
  if (limits.length === 0) throw new Error('write quota: no window');
  for (const l of limits) {
    if (!(Number.isInteger(l.limit) && l.limit >= 1 && l.windowMs > 0)) throw new Error(`write quota: bad window ${JSON.stringify(l)}`);
  }
  return limits.map((l) => ({ limit: l.limit, windowMs: Math.ceil(l.windowMs) }));
}
