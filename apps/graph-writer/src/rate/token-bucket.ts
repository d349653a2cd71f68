import type { Redis } from 'ioredis';

/**
 * One token bucket in Redis shared by every writer replica: one token is one Graph write.
 *
 * Graph counts writes in a sliding window (3,000 per 150 s per app per tenant; 18,000 per 5 min
 * per tenant). A bucket of capacity C refilling at r per ms lets through at most C + r*W writes in
 * any window W, so C + r*W <= limit keeps the whole fleet inside the quota in every window, not
 * just on average. C is a small burst (default 5% of the window, at least one full $batch).
 *
 * The refill and take happen in one Lua script with Redis' own clock (TIME), so replicas with
 * skewed clocks still share one arithmetic. A pause key set after a 429 (see ThrottleGate) makes
 * every acquire wait, on every replica, until Retry-After has passed.
 */
export interface QuotaSettings {
  writesPerWindow: number;
  /** ms */
  window: number;
  tenantWritesPerFiveMinutes: number;
}

export interface BucketParams {
  capacity: number;
  /** tokens per ms */
  ratePerMs: number;
}

export const MAX_BATCH = 20;

/** Bucket capacity and refill rate that keep every sliding window within the quota. */
export function bucketParams(quota: QuotaSettings, safety = 0.95, burstFraction = 0.05, minCapacity = MAX_BATCH): BucketParams {
  const limits = [
    { limit: Math.floor(quota.writesPerWindow * safety), window: quota.window },
    { limit: Math.floor(quota.tenantWritesPerFiveMinutes * safety), window: 300_000 * (quota.window / 150_000) },
  ];
  let capacity = Math.max(minCapacity, Math.floor(Math.min(...limits.map((l) => l.limit)) * burstFraction));
  capacity = Math.min(capacity, Math.min(...limits.map((l) => l.limit)));
  const ratePerMs = Math.min(...limits.map((l) => Math.max(0, l.limit - capacity) / l.window));
  return { capacity, ratePerMs };
}

/** Most writes any window of `windowMs` can see from a bucket (for tests and docs). */
export function maxWritesInWindow(p: BucketParams, windowMs: number): number {
  return p.capacity + p.ratePerMs * windowMs;
}

/**
 * Pure model of the script's arithmetic (unit-tested against the same cases as the Lua).
 * Returns the new state and either granted or the wait in ms.
 */
export function takeTokens(
  state: { tokens: number; ts: number } | undefined,
  now: number,
  n: number,
  p: BucketParams,
): { granted: boolean; tokens: number; ts: number; waitMs: number } {
  let tokens = state ? state.tokens : p.capacity;
  let ts = state ? state.ts : now;
  if (now > ts) {
    tokens = Math.min(p.capacity, tokens + (now - ts) * p.ratePerMs);
    ts = now;
  }
  if (tokens >= n) return { granted: true, tokens: tokens - n, ts, waitMs: 0 };
  const waitMs = p.ratePerMs > 0 ? Math.ceil((n - tokens) / p.ratePerMs) : 60_000;
  return { granted: false, tokens, ts, waitMs };
}

const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local pause = redis.call('PTTL', KEYS[2])
if pause > 0 then
  return {0, '-1', pause}
end
local cap = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1])
local ts = tonumber(b[2])
if tokens == nil or ts == nil then
  tokens = cap
  ts = now
end
if tokens > cap then tokens = cap end
if now > ts then
  tokens = math.min(cap, tokens + (now - ts) * rate)
  ts = now
end
local granted = 0
local wait = 0
if tokens >= n then
  tokens = tokens - n
  granted = 1
  redis.call('INCRBY', KEYS[3], n)
  redis.call('PEXPIRE', KEYS[3], ttl)
else
  if rate > 0 then wait = math.ceil((n - tokens) / rate) else wait = 60000 end
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))
redis.call('PEXPIRE', KEYS[1], ttl)
return {granted, tostring(tokens), wait}
`;

const PEEK = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cap = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1])
local ts = tonumber(b[2])
if tokens == nil or ts == nil then return tostring(cap) end
if now > ts then tokens = math.min(cap, tokens + (now - ts) * rate) end
return tostring(tokens)
`;

export interface AcquireResult {
  granted: boolean;
  tokens: number;
  waitMs: number;
  paused: boolean;
}

export class TokenBucket {
  #params: BucketParams;
  #windowMs: number;

  constructor(
    private readonly redis: Redis,
    /** e.g. canopy:gw:{tenant}:{clientId} */
    private readonly keyPrefix: string,
    params: BucketParams,
    windowMs: number,
  ) {
    this.#params = params;
    this.#windowMs = windowMs;
  }

  get params(): BucketParams {
    return this.#params;
  }

  /** Hot-reload (global.quota changed). */
  setParams(params: BucketParams, windowMs: number): void {
    this.#params = params;
    this.#windowMs = windowMs;
  }

  get bucketKey(): string {
    return `${this.keyPrefix}:bucket`;
  }

  get pauseKey(): string {
    return `${this.keyPrefix}:pause`;
  }

  /** Writes granted so far (all replicas), for measurements. Expires a window after the last grant. */
  get grantedKey(): string {
    return `${this.keyPrefix}:granted`;
  }

  async tryAcquire(n: number): Promise<AcquireResult> {
    const p = this.#params;
    const res = (await this.redis.eval(
      ACQUIRE,
      3,
      this.bucketKey,
      this.pauseKey,
      this.grantedKey,
      String(p.capacity),
      String(p.ratePerMs),
      String(n),
      String(Math.max(60_000, this.#windowMs * 2)),
    )) as [number, string, number];
    const tokens = Number(res[1]);
    return { granted: res[0] === 1, tokens: tokens < 0 ? 0 : tokens, waitMs: Number(res[2]), paused: tokens < 0 };
  }

  /** Wait until `n` tokens are granted (or `signal` aborts). Calls onWait for every wait. */
  async acquire(n: number, options: { signal?: AbortSignal; onWait?: (r: AcquireResult) => void } = {}): Promise<AcquireResult> {
    const want = Math.min(n, this.#params.capacity);
    for (;;) {
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
      const r = await this.tryAcquire(want);
      if (r.granted) {
        if (n > want) {
          // More than one burst at once (only with a tiny quota): take the rest one burst at a time.
          await this.acquire(n - want, options);
        }
        return r;
      }
      options.onWait?.(r);
      await sleep(Math.min(Math.max(r.waitMs, 5), 30_000), options.signal);
    }
  }

  async available(): Promise<number> {
    const p = this.#params;
    return Number(await this.redis.eval(PEEK, 1, this.bucketKey, String(p.capacity), String(p.ratePerMs)));
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
