import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { encodeConfigDocument, publishConfigDocuments } from '@canopy/central-config';
import { TOPICS, adObjectsTopic, codecs, guidFromString, guidToString } from '@canopy/contracts';
import { KafkaClient, kafkaOptionsSchema } from '@canopy/kafka';
import { createLogger } from '@canopy/logger';
import { readStackInfo } from '@canopy/stack';
import { REPO_ROOT, spawnService, stackEnv } from '@canopy/test-kit';
import { userEvent } from '@canopy/transform-batch';
import type { BenchResult } from '../report.js';

const log = createLogger({ name: 'bench', level: 'warn' });

/** Wait until the topic's high watermarks add up to `n`; returns ms from the first record to the last. */
async function drainTime(kafka: KafkaClient, topic: string, n: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let first = 0;
  for (;;) {
    const marks = await kafka.admin().topicOffsets(topic).catch(() => []);
    const count = marks.reduce((s, m) => s + Number(m.high), 0);
    if (count > 0 && !first) first = Date.now();
    if (count >= n) return Date.now() - first;
    if (Date.now() > deadline) throw new Error(`${topic}: ${count} of ${n} records after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Transformer throughput through Kafka, one process: N user snapshots (Avro) in, N ops (Avro) out.
 * Reference, same run and data: a pass-through process with the same Kafka wrapper that consumes
 * the same topic and produces the same bytes unchanged (the cost of Kafka alone).
 */
export async function transformerThroughput(options: { objects: number }): Promise<BenchResult> {
  const info = readStackInfo();
  const ns = `bench-tx-${randomUUID().slice(0, 8)}`;
  const forest = 'bench.example.test';
  const kafka = new KafkaClient(kafkaOptionsSchema.parse({ brokers: info.kafka.brokers, namespace: ns, clientId: ns }), log);
  const partitions = 3;
  await kafka.admin().ensureTopics([
    { name: TOPICS.config.name, partitions: 1, config: TOPICS.config.config },
    { name: adObjectsTopic(forest), partitions },
    { name: TOPICS.entraOps.name, partitions },
    { name: TOPICS.syncResults.name, partitions },
    { name: TOPICS.deadLetters.name, partitions: 1 },
    { name: 'bench.passthrough', partitions },
  ]);
  const producer = await kafka.producer();
  await publishConfigDocuments(producer, [
    encodeConfigDocument({ kind: 'GLOBAL', body: { tenant: { id: 't', initialDomain: 'contoso.onmicrosoft.com', verifiedDomains: [forest] }, graph: { clientId: 'bench' } } }, 1, 'bench'),
    encodeConfigDocument({ kind: 'FOREST', body: { name: forest, connection: { url: 'ldaps://127.0.0.1:636' }, domains: [{ dnsName: forest }] } }, 2, 'bench'),
  ]);
  const n = options.objects;
  for (let i = 0; i < n; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, n - i) }, (_, j) => {
      const e = userEvent(forest, `User ${i + j} Benchmark`, { title: ['Engineer'], department: ['R&D'], mail: [`user${i + j}@${forest}`] });
      e.objectGuid = guidFromString(randomUUID());
      return { key: guidToString(e.objectGuid), value: codecs.adObjectEvent.encode(e) };
    });
    await producer.send(adObjectsTopic(forest), batch);
  }

  // Reference: pass-through of the same records, one process.
  const ref = spawn(process.execPath, [resolve(REPO_ROOT, 'tools/bench/dist/passthrough.js')], {
    env: { ...process.env, ...stackEnv({}, ns), BENCH_SOURCE: adObjectsTopic(forest), BENCH_TARGET: 'bench.passthrough' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const refMs = await drainTime(kafka, 'bench.passthrough', n, 600_000);
  ref.kill('SIGTERM');

  const transformer = await spawnService('transformer', stackEnv({ CANOPY_TOPIC_REFRESH_MS: '1000' }, ns), { timeoutMs: 60_000 });
  const txMs = await drainTime(kafka, TOPICS.entraOps.name, n, 600_000);
  await transformer.stop();
  await kafka.close();

  const value = n / (txMs / 1000);
  const refValue = n / (refMs / 1000);
  return {
    name: 'transformer-throughput',
    title: 'Transformer through Kafka (Avro in, Avro out), 1 process',
    unit: 'objects/s',
    value,
    reference: { what: 'pass-through of the same records, 1 process, records/s', value: refValue },
    ratio: value / refValue,
    details: { objects: n, partitions, 'transformer ms': txMs, 'pass-through ms': refMs },
    notes: ['Timed from the first output record to the last (start-up excluded), on the local single-broker Kafka 4.'],
    command: `scripts/bench --only transformer-throughput --objects ${n}`,
  };
}
