/** Health checks for every stack component, as `scripts/stack status` and ensureStackUp() use them. */
import { readFileSync } from 'node:fs';
import { Client } from 'ldapts';
import { Redis } from 'ioredis';
import type { ForestInfo, StackInfo } from './info.js';
import { readSecret } from './info.js';
import { kafkaMetadata } from './kafka-probe.js';

export interface ComponentHealth {
  name: string;
  address: string;
  healthy: boolean;
  detail: string;
  ms: number;
}

async function timed(name: string, address: string, fn: () => Promise<string>): Promise<ComponentHealth> {
  const t0 = performance.now();
  try {
    const detail = await fn();
    return { name, address, healthy: true, detail, ms: Math.round(performance.now() - t0) };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { name, address, healthy: false, detail: message, ms: Math.round(performance.now() - t0) };
  }
}

/** Kafka: a Metadata request on the wire (see kafka-probe.ts). */
export function checkKafka(info: StackInfo, timeoutMs = 5000): Promise<ComponentHealth> {
  return timed('kafka', info.kafka.brokers.join(','), async () => {
    const md = await kafkaMetadata(info.kafka.brokers[0]!, timeoutMs);
    if (!md.brokers.length) throw new Error('metadata lists no broker');
    return `Kafka ${info.kafka.version}, ${md.brokers.length} broker(s), controller ${md.controllerId}, ${md.topics.length} topic(s)`;
  });
}

/** Redis: PING. */
export function checkRedis(info: StackInfo, timeoutMs = 3000): Promise<ComponentHealth> {
  return timed('redis', info.redis.url, async () => {
    const redis = new Redis(info.redis.url, {
      lazyConnect: true,
      connectTimeout: timeoutMs,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    redis.on('error', () => undefined); // reported through connect()/ping() below

    try {
      await redis.connect();
      const pong = await redis.ping();
      if (pong !== 'PONG') throw new Error(`PING answered ${pong}`);
      const ver = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?';
      return `PONG (redis ${ver})`;
    } finally {
      redis.disconnect();
    }
  });
}

export function ldapsClient(forest: ForestInfo, timeoutMs = 5000): Client {
  return new Client({
    url: forest.ldapsUrl,
    timeout: timeoutMs,
    connectTimeout: timeoutMs,
    tlsOptions: { ca: [readFileSync(forest.caFile)], minVersion: 'TLSv1.2' },
  });
}

/** Samba: LDAPS (CA-verified) simple bind as the sync account, then a base read of the domain head. */
// A DC busy with another client's large search (one LDAP worker) answers late, not never: 15 s.
export function checkForest(forest: ForestInfo, timeoutMs = 15_000): Promise<ComponentHealth> {
  return timed(`samba ${forest.key}`, forest.ldapsUrl, async () => {
    const client = ldapsClient(forest, timeoutMs);
    try {
      await client.bind(forest.syncAccount.upn, readSecret(forest.syncAccount.passwordFile));
      const { searchEntries } = await client.search(forest.baseDn, {
        scope: 'base',
        attributes: ['msDS-Behavior-Version'],
      });
      if (searchEntries.length !== 1) throw new Error('domain head not readable');
      const seeded = forest.seed ? `seeded ${forest.seed.users} users` : 'not seeded';
      return `${forest.name} (${forest.netbios}), bind as ${forest.syncAccount.sAMAccountName} ok, ${seeded}`;
    } finally {
      await client.unbind().catch(() => undefined);
    }
  });
}

export async function checkAll(info: StackInfo): Promise<ComponentHealth[]> {
  return Promise.all([checkKafka(info), checkRedis(info), ...info.forests.map((f) => checkForest(f))]);
}
