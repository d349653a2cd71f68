import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StackInfo } from '../src/index.js';
import { STACK_TIMEOUT_MS, stack } from './helpers.js';

describe('redis (local stack)', () => {
  let info: StackInfo;
  let redis: Redis;
  beforeAll(async () => {
    info = await stack();
    redis = new Redis(info.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
  }, STACK_TIMEOUT_MS);
  afterAll(() => redis?.disconnect());

  it('listens where stack.json says', () => {
    expect(info.redis.url).toBe('redis://127.0.0.1:16379');
  });

  it('round-trips a value with a TTL', async () => {
    const key = `stack-test:${randomUUID()}`;
    const value = `Zoë Ångström 张伟 ${Date.now()}`;
    await redis.set(key, value, 'EX', 30);
    expect(await redis.get(key)).toBe(value);
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30);
    expect(await redis.del(key)).toBe(1);
    expect(await redis.get(key)).toBeNull();
  });
});
