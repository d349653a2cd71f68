import { randomUUID } from 'node:crypto';
import { createLogger } from '@canopy/logger';
// The stack's smoke test goes through the project's one Kafka wrapper (kafkajs 2.2.4 behind it),
// so it also proves that client works against the Kafka 4 broker the stack runs.
import { KafkaClient, kafkaOptionsSchema, type IncomingMessage } from '@canopy/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaMetadata, type StackInfo } from '../src/index.js';
import { STACK_TIMEOUT_MS, stack } from './helpers.js';

describe('kafka (local stack)', () => {
  let info: StackInfo;
  let client: KafkaClient;
  const run = randomUUID().slice(0, 8);
  beforeAll(async () => {
    info = await stack();
    client = new KafkaClient(
      kafkaOptionsSchema.parse({ brokers: info.kafka.brokers, clientId: `stack-test-${run}` }),
      createLogger({ name: 'stack-kafka-test', level: 'warn' }),
    );
  }, STACK_TIMEOUT_MS);
  afterAll(async () => {
    await client?.close();
  });

  it('is a single KRaft node of Kafka 4 on 127.0.0.1:19092', async () => {
    expect(info.kafka.brokers).toEqual(['127.0.0.1:19092']);
    expect(info.kafka.version).toMatch(/^4\./);
    const md = await kafkaMetadata(info.kafka.brokers[0]!);
    expect(md.brokers).toEqual([{ nodeId: 1, host: '127.0.0.1', port: 19092 }]);
    expect(md.controllerId).toBe(1);
  });

  it('produces and consumes through kafkajs (via @canopy/kafka)', async () => {
    const topic = `stack.smoke.${run}`;
    await client.admin().ensureTopics([{ name: topic, partitions: 2 }]);
    const producer = await client.producer();
    const sent = Array.from({ length: 20 }, (_, i) => ({
      key: `k${i % 4}`,
      value: Buffer.from(`Zoë-${i}`),
      headers: { seq: String(i) },
    }));
    await producer.send(topic, sent);
    const got: IncomingMessage[] = [];
    const consumer = client.consumer({ groupId: `stack-smoke-${run}` });
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const done = new Promise<void>((resolve) => {
      void consumer.run(async (batch, ctx) => {
        for (const m of batch.messages) {
          got.push(m);
          ctx.resolveOffset(m.offset);
        }
        if (got.length >= sent.length) resolve();
      });
    });
    await Promise.race([
      done,
      new Promise((_, rej) => setTimeout(() => rej(new Error(`consumed ${got.length}/20 in 30 s`)), 30_000)),
    ]);
    await consumer.stop();
    expect(got.map((m) => m.value!.toString()).sort()).toEqual(sent.map((m) => m.value.toString()).sort());
    // Order per key is kept.
    for (const k of ['k0', 'k1', 'k2', 'k3']) {
      const seqs = got.filter((m) => m.key!.toString() === k).map((m) => Number(m.headers.seq!.toString()));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
  }, 60_000);

  it('runs transactions: a read_committed reader sees committed records, never aborted ones', async () => {
    const topic = `stack.tx.${run}`;
    await client.admin().ensureTopics([{ name: topic, partitions: 1 }]);
    const producer = await client.producer({ transactionalId: `stack-tx-${run}` });
    const aborted = await producer.transaction();
    await aborted.send(topic, [{ key: 'a', value: Buffer.from('aborted') }]);
    await aborted.abort();
    const committed = await producer.transaction();
    await committed.send(topic, [{ key: 'c', value: Buffer.from('committed') }]);
    await committed.commit();
    const seen: string[] = [];
    await client.readToEnd(topic, (m) => void seen.push(m.value!.toString()));
    expect(seen).toEqual(['committed']);
  }, 60_000);
});
