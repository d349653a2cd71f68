import type { RedisClient } from '@canopy/redis';

/**
 * Exactly one active reader per forest: a Redis lease (SET NX PX) whose value names the holder
 * and a fencing token from INCR, taken atomically by one Lua script. The holder renews with a
 * compare-and-extend script; anyone else's renew fails. The token travels on every event and
 * checkpoint (header canopy-fencing-token); a newer holder always has a larger one. Kafka's
 * transactional-id fencing stops a stale holder at the broker as well.
 */
const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local token = redis.call('INCR', KEYS[2])
  redis.call('SET', KEYS[1], ARGV[1] .. '|' .. token, 'PX', ARGV[2])
  return token
end
return false`;

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

export interface LeaseHolder {
  holder: string;
  token: number;
}

export class Lease {
  #token: number | undefined;
  #expiresAt = 0;

  constructor(
    private readonly redis: RedisClient,
    readonly name: string,
    readonly holder: string,
    readonly ttlMs: number,
  ) {}

  get key(): string {
    return `lease:${this.name}`;
  }

  get tokenKey(): string {
    return `lease:${this.name}:token`;
  }

  get token(): number | undefined {
    return this.#token;
  }

  /** True while we hold it by our own clock (renewed less than ttl ago). */
  get held(): boolean {
    return this.#token !== undefined && Date.now() < this.#expiresAt;
  }

  #value(): string {
    return `${this.holder}|${this.#token}`;
  }

  /** Take the lease if free; returns the new fencing token, or null when someone holds it. */
  async tryAcquire(): Promise<number | null> {
    const started = Date.now();
    const res = await this.redis.eval(ACQUIRE, 2, this.key, this.tokenKey, this.holder, String(this.ttlMs));
    if (res === null || res === undefined || res === 0) return null;
    this.#token = Number(res);
    this.#expiresAt = started + this.ttlMs;
    return this.#token;
  }

  /** Extend our lease; false when it is no longer ours (expired and taken, or deleted). */
  async renew(): Promise<boolean> {
    if (this.#token === undefined) return false;
    const started = Date.now();
    const res = await this.redis.eval(RENEW, 1, this.key, this.#value(), String(this.ttlMs));
    if (Number(res) === 1) {
      this.#expiresAt = started + this.ttlMs;
      return true;
    }
    this.#token = undefined;
    return false;
  }

  /** Give it up now (clean shutdown): a standby takes over without waiting for expiry. */
  async release(): Promise<void> {
    if (this.#token === undefined) return;
    const value = this.#value();
    this.#token = undefined;
    await this.redis.eval(RELEASE, 1, this.key, value);
  }

  /** Drop our claim locally (e.g. fenced by Kafka) without touching Redis. */
  forget(): void {
    this.#token = undefined;
  }

  async current(): Promise<LeaseHolder | null> {
    const v = await this.redis.get(this.key);
    if (!v) return null;
    const i = v.lastIndexOf('|');
    return { holder: v.slice(0, i), token: Number(v.slice(i + 1)) };
  }
}
