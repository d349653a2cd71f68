import { randomUUID } from 'node:crypto';
import { encodeConfigDocument, publishConfigDocuments } from '@canopy/central-config';
import { TOPICS, adObjectsTopic, codecs, guidToString, type EntraOperation, type SyncResult } from '@canopy/contracts';
import { KafkaClient, kafkaOptionsSchema } from '@canopy/kafka';
import { createLogger } from '@canopy/logger';
import { spawnService, stackEnv, testNamespace, waitFor, type SpawnedService } from '@canopy/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userEvent } from '@canopy/transform-batch';

// Integration: real Kafka; the transformer runs as its own process.
const run = randomUUID().slice(0, 8);
const ns = testNamespace('transformer');
const forest = `tx-${run}.example.test`;
const log = createLogger({ name: 'transformer-test', level: 'warn' });
let kafka: KafkaClient;
let transformer: SpawnedService | undefined;

beforeAll(async () => {
  const env = stackEnv();
  kafka = new KafkaClient(kafkaOptionsSchema.parse({ brokers: env.CANOPY_KAFKA__BROKERS, clientId: `tx-test-${run}`, namespace: ns }), log);
  await kafka.admin().ensureTopics([
    { name: TOPICS.config.name, partitions: 1, config: TOPICS.config.config },
    { name: TOPICS.entraOps.name, partitions: 3 },
    { name: TOPICS.syncResults.name, partitions: 3 },
    { name: TOPICS.deadLetters.name, partitions: 1 },
    { name: adObjectsTopic(forest), partitions: 2 },
  ]);
  const producer = await kafka.producer();
  const version = Date.now();
  await publishConfigDocuments(producer, [
    encodeConfigDocument(
      {
        kind: 'GLOBAL',
        body: {
          tenant: { id: 'tenant-test', initialDomain: 'contoso.onmicrosoft.com', verifiedDomains: ['corp.example.test', 'fabrikam.example.test'] },
          graph: { clientId: 'test-app' },
        },
      },
      version,
      'transformer-test',
    ),
    encodeConfigDocument(
      {
        kind: 'FOREST',
        body: {
          name: forest,
          connection: { url: 'ldaps://127.0.0.1:636' },
          domains: [{ dnsName: forest }],
          rules: {
            mappings: {
              user: {
                mappings: [{ type: 'expression', target: 'jobTitle', expression: 'IIF([department]="Fail", Error("department Fail is refused"), [title])' }],
              },
            },
          },
        },
      },
      version + 1,
      'transformer-test',
    ),
  ]);
  transformer = await spawnService('transformer', stackEnv({ CANOPY_TOPIC_REFRESH_MS: '1000' }, ns));
});

afterAll(async () => {
  if (transformer) expect(await transformer.stop()).toBe(0);
  await kafka?.close();
});

describe('transformer process', () => {
  it('turns snapshots on Kafka into ops on Kafka; a failing object does not stop the others', async () => {
    const events = [
      userEvent(forest, 'Ana Silva', { department: ['Sales'], title: ['Rep'] }),
      userEvent(forest, 'Bad Apple', { department: ['Fail'] }),
      userEvent(forest, 'Chen Wei', { department: ['R&D'], title: ['Engineer'] }),
    ];
    const producer = await kafka.producer();
    await producer.send(
      adObjectsTopic(forest),
      events.map((e) => ({ key: guidToString(e.objectGuid), value: codecs.adObjectEvent.encode(e) })),
    );
    await producer.send(adObjectsTopic(forest), [{ key: 'garbage', value: Buffer.from('this is not an Avro message') }]);

    const guids = new Set(events.map((e) => guidToString(e.objectGuid)));
    const ops: EntraOperation[] = [];
    const results: SyncResult[] = [];
    const consumer = kafka.consumer({ groupId: `tx-test-${run}` });
    await consumer.subscribe({ topics: [TOPICS.entraOps.name, TOPICS.syncResults.name], fromBeginning: true });
    await consumer.run(async (batch, ctx) => {
      for (const m of batch.messages) {
        ctx.resolveOffset(m.offset);
        if (m.topic === TOPICS.entraOps.name) {
          const op = codecs.entraOperation.decode(m.value);
          if (op.forest === forest) ops.push(op);
        } else {
          const r = codecs.syncResult.decode(m.value);
          if (r.forest === forest) results.push(r);
        }
      }
    });
    await waitFor('2 ops and 2 failure results', () => ops.length >= 2 && results.length >= 2, { timeoutMs: 45_000 });
    await consumer.stop();

    expect(ops.map((o) => o.properties.displayName).sort()).toEqual(['Ana Silva', 'Chen Wei']);
    expect(ops.every((o) => guids.has(guidToString(o.objectGuid)) && o.action === 'UPSERT')).toBe(true);
    expect(ops.find((o) => o.properties.displayName === 'Chen Wei')!.properties.jobTitle).toBe('Engineer');
    const failed = results.filter((r) => r.outcome === 'FAILED');
    expect(failed).toHaveLength(2);
    expect(failed.find((r) => r.error?.attribute === 'jobTitle')!.error!.message).toContain('department Fail is refused');
    expect(failed.find((r) => r.error?.type.startsWith('Contracts.'))).toBeDefined();

    // Everything on the forest's topic is consumed: the lag gauge says so, for that topic.
    const metrics = await (await fetch(`${transformer.url}/metrics`)).text();
    const lag = new RegExp(`canopy_transformer_consumer_lag\\{[^}]*topic="${adObjectsTopic(forest).replace(/\./g, '\\.')}"[^}]*\\} (\\d+)`).exec(metrics);
    expect(lag, metrics.split('\n').filter((l) => l.includes('consumer_lag')).join('\n')).not.toBeNull();
    expect(Number(lag![1])).toBe(0);
  }, 90_000);
});
