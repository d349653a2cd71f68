import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { KafkaClient, kafkaOptionsSchema } from '@canopy/kafka';
import { createLogger } from '@canopy/logger';
import { readStackInfo } from '@canopy/stack';
import { testNamespace, testNamespaceDir } from '@canopy/test-kit';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { collectTestNamespaces } from '../src/namespace.js';

// Integration: real Kafka and Redis. A namespace whose process has ended loses its topics and
// keys; one whose process still runs (this one) keeps them.
const info = readStackInfo();
const log = createLogger({ name: 'gc-test', level: 'warn' });
const redis = new Redis(info.redis.url);
afterAll(() => redis.disconnect());

async function seed(ns: string): Promise<void> {
  const kafka = new KafkaClient(kafkaOptionsSchema.parse({ brokers: info.kafka.brokers, clientId: 'gc-test', namespace: ns }), log);
  await kafka.admin().ensureTopics([{ name: 'canopy.gc.probe', partitions: 1 }]);
  await kafka.close();
  await redis.set(`${ns}:canopy:probe`, '1');
}

async function topicsOf(ns: string): Promise<string[]> {
  const kafka = new KafkaClient(kafkaOptionsSchema.parse({ brokers: info.kafka.brokers, clientId: 'gc-test', namespace: ns }), log);
  try {
    return await kafka.admin().listTopics();
  } finally {
    await kafka.close();
  }
}

describe('test namespace clean-up', () => {
  it("removes the topics and keys of namespaces whose process ended, and keeps those of running processes", async () => {
    const live = testNamespace('gc-live');
    const ended = `t-gc-ended-${live.slice(-8)}`;
    const deadPid = spawnSync('true').pid!;
    const dir = testNamespaceDir(info.stateDir);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, ended), String(deadPid));
    await seed(live);
    await seed(ended);

    const r = await collectTestNamespaces(info);
    expect(r.namespaces).toBeGreaterThanOrEqual(1);
    expect(existsSync(join(dir, ended))).toBe(false);
    expect(existsSync(join(dir, live))).toBe(true);
    expect(await redis.exists(`${ended}:canopy:probe`)).toBe(0);
    expect(await redis.exists(`${live}:canopy:probe`)).toBe(1);
    const deadline = Date.now() + 60_000;
    while ((await topicsOf(ended)).length && Date.now() < deadline) await new Promise((res) => setTimeout(res, 500));
    expect(await topicsOf(ended)).toEqual([]);
    expect(await topicsOf(live)).toEqual(['canopy.gc.probe']);
  }, 120_000);
});
