import { randomUUID } from 'node:crypto';
import { readStackInfo } from '@canopy/stack';
import { createLogger } from '@canopy/logger';
import { waitFor } from '@canopy/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaClient, kafkaOptionsSchema, type IncomingMessage } from '../src/index.js';

// Integration: the real Kafka 4 broker of the local stack (scripts/stack up).
const log = createLogger({ name: 'kafka-test', level: 'warn' });
let client: KafkaClient;
const run = randomUUID().slice(0, 8);

beforeAll(() => {
  const info = readStackInfo();
  client = new KafkaClient(kafkaOptionsSchema.parse({ brokers: info.kafka.brokers, clientId: `test-${run}` }), log);
});
afterAll(async () => {
  await client?.close();
});

describe('Kafka wrapper against the real broker', () => {
  it('creates topics idempotently', async () => {
    const topic = `test.create.${run}`;
    expect(await client.admin().ensureTopics([{ name: topic, partitions: 2, config: { 'cleanup.policy': 'compact' } }])).toEqual([topic]);
    expect(await client.admin().ensureTopics([{ name: topic, partitions: 2 }])).toEqual([]);
    expect(await client.admin().topicOffsets(topic)).toHaveLength(2);
  });

  it('produces with keys and headers and consumes them in order per key, committing resolved offsets', async () => {
    const topic = `test.roundtrip.${run}`;
    await client.admin().ensureTopics([{ name: topic, partitions: 3 }]);
    const producer = await client.producer();
    const sent = Array.from({ length: 30 }, (_, i) => ({
      key: `k${i % 5}`,
      value: Buffer.from(`v${i}`),
      headers: { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`, seq: String(i) },
    }));
    await producer.send(topic, sent);
    const got: IncomingMessage[] = [];
    const groupId = `test-group-${run}`;
    const consumer = client.consumer({ groupId });
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run(async (batch, ctx) => {
      for (const m of batch.messages) {
        got.push(m);
        ctx.resolveOffset(m.offset);
      }
      await ctx.commit();
    });
    await waitFor('30 messages', () => got.length >= 30, { timeoutMs: 30_000 });
    for (let k = 0; k < 5; k++) {
      const seqs = got.filter((m) => m.key?.toString() === `k${k}`).map((m) => Number(m.headers.seq!.toString()));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(seqs).toHaveLength(6);
    }
    expect(got[0]!.headers.traceparent!.toString()).toMatch(/^00-a{32}-b{16}-01$/);
    await waitFor('lag 0', async () => (await client.admin().groupLag(groupId, [topic]))[topic] === 0, { timeoutMs: 15_000 });
    await consumer.stop();
  });

  it('reads a compacted topic to its end without a committed group', async () => {
    const topic = `test.readtoend.${run}`;
    await client.admin().ensureTopics([{ name: topic, partitions: 2 }]);
    const producer = await client.producer();
    await producer.send(topic, Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: Buffer.from(String(i)) })));
    const seen: string[] = [];
    expect(await client.readToEnd(topic, (m) => void seen.push(m.value!.toString()))).toBe(10);
    expect(seen.sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('transactions: committed records only, readToEnd stops at a commit marker, a newer producer fences the old', async () => {
    const topic = `test.tx.${run}`;
    await client.admin().ensureTopics([{ name: topic, partitions: 1 }]);
    const transactionalId = `test-tx-${run}`;
    const first = await client.producer({ transactionalId });
    let tx = await first.transaction();
    await tx.send(topic, [{ key: 'k', value: Buffer.from('committed-1') }]);
    await tx.commit();
    tx = await first.transaction();
    await tx.send(topic, [{ key: 'k', value: Buffer.from('aborted') }]);
    await tx.abort();
    const zombie = await first.transaction();
    await zombie.send(topic, [{ key: 'k', value: Buffer.from('zombie') }]);
    const second = await client.producer({ transactionalId });
    await second.initTransactions();
    await expect(zombie.send(topic, [{ key: 'k', value: Buffer.from('zombie-2') }]).then(() => zombie.commit())).rejects.toMatchObject({
      type: 'Kafka.Fenced',
    });
    tx = await second.transaction();
    await tx.send(topic, [{ key: 'k', value: Buffer.from('committed-2') }]);
    await tx.commit();
    const seen: string[] = [];
    await client.readToEnd(topic, (m) => void seen.push(m.value!.toString()));
    expect(seen).toEqual(['committed-1', 'committed-2']);
  }, 60_000);

  it('picks up a new topic matching a pattern without a restart', async () => {
    const prefix = `test.pattern.${run}.`;
    await client.admin().ensureTopics([{ name: `${prefix}a`, partitions: 1 }]);
    const consumer = client.consumer({ groupId: `test-pattern-${run}`, topicRefreshMs: 500 });
    await consumer.subscribe({ topics: [new RegExp(`^${prefix.replace(/\./g, '\\.')}`)], fromBeginning: true });
    const topics = new Set<string>();
    await consumer.run(async (batch, ctx) => {
      for (const m of batch.messages) {
        topics.add(m.topic);
        ctx.resolveOffset(m.offset);
      }
    });
    const producer = await client.producer();
    await producer.send(`${prefix}a`, [{ key: 'x', value: Buffer.from('1') }]);
    await waitFor('first topic', () => topics.has(`${prefix}a`), { timeoutMs: 30_000 });
    await client.admin().ensureTopics([{ name: `${prefix}b`, partitions: 1 }]);
    await producer.send(`${prefix}b`, [{ key: 'y', value: Buffer.from('2') }]);
    await waitFor('new topic picked up', () => topics.has(`${prefix}b`), { timeoutMs: 45_000 });
    await consumer.stop();
  }, 90_000);
});

describe('reading ranges without a group offset', () => {
  it('reads from given offsets to the end, and fetches one record by offset', async () => {
    const topic = `test.range.${run}`;
    await client.admin().ensureTopics([{ name: topic, partitions: 2 }]);
    const producer = await client.producer();
    await producer.send(topic, Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: Buffer.from(String(i)), partition: i % 2 })));
    const all: string[] = [];
    expect(await client.readRange(topic, new Map(), (ms) => void all.push(...ms.map((m) => m.value!.toString())))).toBe(20);
    const tail: Array<[number, string]> = [];
    await client.readRange(topic, new Map([[0, 5n], [1, 8n]]), (ms) => void tail.push(...ms.map((m): [number, string] => [m.partition, m.offset])));
    expect(tail.filter(([p]) => p === 0).map(([, o]) => Number(o))).toEqual([5, 6, 7, 8, 9]);
    expect(tail.filter(([p]) => p === 1).map(([, o]) => Number(o))).toEqual([8, 9]);
    const one = await client.fetchOne(topic, 1, 3n);
    expect(one?.value?.toString()).toBe('7');
  });

  it('reads each record of a transactional topic exactly once and stops at the end (commit markers included)', async () => {
    const topic = `test.range-tx.${run}`;
    await client.admin().ensureTopics([{ name: topic, partitions: 2 }]);
    const producer = await client.producer({ transactionalId: `range-tx-${run}` });
    for (let t = 0; t < 3; t++) {
      const tx = await producer.transaction();
      await tx.send(topic, Array.from({ length: 5 }, (_, i) => ({ key: `k${t}-${i}`, value: Buffer.from(`${t}-${i}`) })));
      await tx.commit();
    }
    const seen: string[] = [];
    const delivered = await client.readRange(topic, new Map(), (ms) => void seen.push(...ms.map((m) => m.value!.toString())));
    expect(delivered).toBe(15);
    expect(new Set(seen).size).toBe(15);
    expect(seen).toHaveLength(15);
  });
});

describe('namespaces', () => {
  it('isolate topics and groups of two installations on one cluster', async () => {
    const info = readStackInfo();
    const a = new KafkaClient(kafkaOptionsSchema.parse({ brokers: info.kafka.brokers, namespace: `ns-a-${run}` }), log);
    const b = new KafkaClient(kafkaOptionsSchema.parse({ brokers: info.kafka.brokers, namespace: `ns-b-${run}` }), log);
    try {
      await a.admin().ensureTopics([{ name: 'canopy.entra.ops', partitions: 1 }]);
      await b.admin().ensureTopics([{ name: 'canopy.entra.ops', partitions: 1 }]);
      expect(await a.admin().listTopics()).toEqual(['canopy.entra.ops']);
      expect(await client.admin().listTopics()).toContain(`ns-a-${run}.canopy.entra.ops`);
      await (await a.producer()).send('canopy.entra.ops', [{ key: 'k', value: Buffer.from('from a') }]);
      await (await b.producer()).send('canopy.entra.ops', [{ key: 'k', value: Buffer.from('from b') }]);
      const seenA: IncomingMessage[] = [];
      await a.readToEnd('canopy.entra.ops', (m) => void seenA.push(m));
      expect(seenA.map((m) => [m.topic, m.value!.toString()])).toEqual([['canopy.entra.ops', 'from a']]);
      const consumer = b.consumer({ groupId: 'canopy-graph-writer' });
      const seenB: string[] = [];
      await consumer.subscribe({ topics: [/^canopy\.entra\./], fromBeginning: true });
      await consumer.run(async (batch, ctx) => {
        for (const m of batch.messages) {
          seenB.push(`${m.topic}:${m.value!.toString()}`);
          ctx.resolveOffset(m.offset);
        }
      });
      await waitFor('b reads its own', () => seenB.length === 1, { timeoutMs: 30_000 });
      expect(seenB).toEqual(['canopy.entra.ops:from b']);
      await consumer.stop();
    } finally {
      await a.close();
      await b.close();
    }
  });
});
