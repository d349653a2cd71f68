import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { KafkaClient, kafkaOptionsSchema } from '@canopy/kafka';
import { createLogger } from '@canopy/logger';
import type { StackInfo } from '@canopy/stack';

/**
 * Remove everything one namespace left on the local stack: its Kafka topics (and wait until the
 * broker has deleted them) and its Redis keys. Nothing outside the namespace is touched; AD never.
 */
export async function dropNamespace(info: StackInfo, namespace: string, timeoutMs = 60_000): Promise<{ topics: number; keys: number }> {
  const log = createLogger({ name: 'namespace', level: 'warn' });
  const client = () => new KafkaClient(kafkaOptionsSchema.parse({ brokers: info.kafka.brokers, clientId: 'canopy-namespace-drop', namespace }), log);
  const kafka = client();
  const topics = await kafka.admin().listTopics();
  if (topics.length) await kafka.admin().deleteTopics(topics);
  await kafka.close();
  const { Redis } = await import('ioredis');
  const redis = new Redis(info.redis.url, { lazyConnect: false, maxRetriesPerRequest: 3 });
  let keys = 0;
  try {
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 2000);
      cursor = next;
      if (found.length) keys += await redis.unlink(...found);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  // Kafka deletes topics asynchronously: wait until they are gone before anything recreates them.
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const k = client();
    const left = await k.admin().listTopics();
    await k.close();
    if (!left.length) break;
    if (Date.now() > deadline) throw new Error(`namespace ${namespace}: ${left.length} topic(s) still being deleted after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  return { topics: topics.length, keys };
}

/**
 * Remove the topics and Redis keys of many namespaces at once (one topic listing, one key scan),
 * without waiting for the broker to finish deleting. For cleaning up after test runs.
 */
export async function dropNamespaces(info: StackInfo, namespaces: string[]): Promise<{ topics: number; keys: number }> {
  if (!namespaces.length) return { topics: 0, keys: 0 };
  const wanted = new Set(namespaces);
  const owner = (name: string, sep: string) => {
    const i = name.indexOf(sep);
    return i > 0 && wanted.has(name.slice(0, i));
  };
  const log = createLogger({ name: 'namespace', level: 'warn' });
  const kafka = new KafkaClient(kafkaOptionsSchema.parse({ brokers: info.kafka.brokers, clientId: 'canopy-namespace-gc' }), log);
  let topics: string[] = [];
  try {
    topics = (await kafka.admin().listTopics()).filter((t) => owner(t, '.'));
    for (let i = 0; i < topics.length; i += 100) await kafka.admin().deleteTopics(topics.slice(i, i + 100));
  } finally {
    await kafka.close();
  }
  const { Redis } = await import('ioredis');
  const redis = new Redis(info.redis.url, { maxRetriesPerRequest: 3 });
  let keys = 0;
  try {
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', 't-*', 'COUNT', 5000);
      cursor = next;
      const mine = found.filter((k) => owner(k, ':'));
      if (mine.length) keys += await redis.unlink(...mine);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return { topics: topics.length, keys };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Drop the test namespaces (recorded by test-kit's testNamespace) whose process has ended: what
 * the test run's global set-up and tear-down call, so the shared stack does not fill up with the
 * topics and keys of earlier runs. Namespaces of processes still running are left alone.
 */
export async function collectTestNamespaces(info: StackInfo): Promise<{ namespaces: number; topics: number; keys: number }> {
  const dir = join(info.stateDir, 'test-namespaces');
  if (!existsSync(dir)) return { namespaces: 0, topics: 0, keys: 0 };
  const done = readdirSync(dir).filter((ns) => {
    const pid = Number(readFileSync(join(dir, ns), 'utf8').trim());
    return !Number.isInteger(pid) || pid <= 0 || !alive(pid);
  });
  const res = await dropNamespaces(info, done);
  for (const ns of done) rmSync(join(dir, ns), { force: true });
  return { namespaces: done.length, ...res };
}
