import type { Redis } from 'ioredis';

/**
 * A 429 pauses every replica: the Retry-After is written to one Redis key (with that TTL) that
 * the write quota checks on every acquire. A longer pause never gets shortened by a shorter one.
 * Usage keeps counting at Graph while throttled, so nobody may retry early.
 */
const PAUSE = `
local cur = redis.call('PTTL', KEYS[1])
local ms = tonumber(ARGV[1])
if cur < ms then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ms)
  return 1
end
return 0
`;

export class ThrottleGate {
  constructor(
    private readonly redis: Redis,
    private readonly pauseKey: string,
  ) {}

  /** Pause all writers for `ms`. Returns true if this extended the pause. */
  async pause(ms: number, reason: string): Promise<boolean> {
    const res = await this.redis.eval(PAUSE, 1, this.pauseKey, String(Math.max(1, Math.ceil(ms))), reason);
    return res === 1;
  }

  /** Milliseconds left of the current pause (0 if none). */
  async remaining(): Promise<number> {
    const ttl = await this.redis.pttl(this.pauseKey);
    return ttl > 0 ? ttl : 0;
  }

  /** Wait while paused (for reads, which take nothing from the write quota). */
  async waitOpen(signal?: AbortSignal): Promise<void> {
    for (let left = await this.remaining(); left > 0; left = await this.remaining()) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, Math.min(left, 30_000));
        signal?.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
      });
    }
  }
}
