import type { KafkaClient } from '@canopy/kafka';

export interface EmittedRecord {
  /** `kafka:<topic>/<partition>@<offset>` or `redis:<key>`. */
  source: string;
  data: Buffer;
}

/**
 * Every record of every topic of a namespace (the KafkaClient's namespace), keys, headers and
 * values, as bytes: what a secret scan must look at.
 */
export async function readAllTopics(kafka: KafkaClient): Promise<{ topics: Record<string, number>; records: EmittedRecord[] }> {
  const topics: Record<string, number> = {};
  const records: EmittedRecord[] = [];
  const names = (await kafka.admin().listTopics()).filter((t) => !t.startsWith('__'));
  for (const topic of names) {
    topics[topic] = await kafka.readToEnd(topic, (m) => {
      const headers = Object.entries(m.headers).flatMap(([k, v]) => [Buffer.from(k, 'utf8'), v ?? Buffer.alloc(0)]);
      records.push({ source: `kafka:${topic}/${m.partition}@${m.offset}`, data: Buffer.concat([m.key ?? Buffer.alloc(0), Buffer.from([0]), ...headers, Buffer.from([0]), m.value ?? Buffer.alloc(0)]) });
    });
  }
  return { topics, records };
}

/** The part of ioredis a dump needs (so this module does not pin a Redis client). */
export interface RedisLike {
  scan(cursor: string | number, ...args: Array<string | number>): Promise<[string, string[]]>;
  type(key: string): Promise<string>;
  getBuffer(key: string): Promise<Buffer | null>;
  hgetallBuffer(key: string): Promise<Record<string, Buffer>>;
  smembersBuffer(key: string): Promise<Buffer[]>;
  lrangeBuffer(key: string, start: number, stop: number): Promise<Buffer[]>;
  zrangeBuffer(key: string, start: number, stop: number, withScores: 'WITHSCORES'): Promise<Buffer[]>;
  xrangeBuffer(key: string, start: string, end: string): Promise<Array<[Buffer, Buffer[]]>>;
}

/** Every key under `prefix` with its whole value, whatever its type. */
export async function dumpRedis(redis: RedisLike, prefix: string): Promise<EmittedRecord[]> {
  const out: EmittedRecord[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      let parts: Buffer[] = [];
      if (type === 'string') parts = [(await redis.getBuffer(key)) ?? Buffer.alloc(0)];
      else if (type === 'hash') parts = Object.entries(await redis.hgetallBuffer(key)).flatMap(([k, v]) => [Buffer.from(k), v]);
      else if (type === 'set') parts = await redis.smembersBuffer(key);
      else if (type === 'list') parts = await redis.lrangeBuffer(key, 0, -1);
      else if (type === 'zset') parts = await redis.zrangeBuffer(key, 0, -1, 'WITHSCORES');
      else if (type === 'stream') parts = (await redis.xrangeBuffer(key, '-', '+')).flatMap(([id, fields]) => [id, ...fields]);
      out.push({ source: `redis:${key} (${type})`, data: Buffer.concat([Buffer.from(key, 'utf8'), Buffer.from([0]), ...parts.flatMap((p) => [p, Buffer.from([0])])]) });
    }
  } while (cursor !== '0');
  return out;
}

/**
 * Remove what a test namespace left on the shared stack: its topics and its Redis keys (the
 * stack's Redis has a memory limit without eviction, so forgotten keys end up failing everyone).
 */
export async function deleteNamespace(kafka: KafkaClient, redis: { scan: RedisLike['scan']; unlink(...keys: string[]): Promise<number> }, prefix: string): Promise<{ topics: number; keys: number }> {
  const topics = (await kafka.admin().listTopics()).filter((t) => !t.startsWith('__'));
  if (topics.length) await kafka.admin().deleteTopics(topics);
  let keys = 0;
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 2000);
    cursor = next;
    if (found.length) keys += await redis.unlink(...found);
  } while (cursor !== '0');
  return { topics: topics.length, keys };
}
