import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPICS, adObjectsTopic, codecs, guidFromString, guidToString, keys, sampleMessages, type DeadLetter } from '@canopy/contracts';
import { sampleConfigYaml, startPipeline, type Pipeline } from '@canopy/demo';
import { KafkaClient, kafkaOptionsSchema, type KafkaProducer } from '@canopy/kafka';
import { createLogger } from '@canopy/logger';
import { getForest, readStackInfo, type ForestInfo, type StackInfo } from '@canopy/stack';
import { testNamespace, waitFor } from '@canopy/test-kit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteNamespace } from '../src/index.js';

/**
 * Poison messages at the process level: undecodable bytes, an unknown schema fingerprint, a
 * truncated record, JSON, and a record of another schema go into every topic of a running
 * pipeline's namespace (scheduler, transformer, graph-writer, Graph emulator; no reader, so the
 * domain controllers are not needed: AD events are produced by the test). The data topics'
 * consumers (transformer: canopy.ad.objects.*, writer: canopy.entra.ops) put each on the
 * dead-letter topic with the reason; the state topics' readers log and skip them. Afterwards
 * every stage still works: a valid AD event is transformed and written, the control API answers
 * and acts, the lag drains, and every process stops cleanly.
 */
const ns = testNamespace('poison');
const run = ns.slice(-8);
const log = createLogger({ name: 'poison-test', level: 'silent' });
let stack: StackInfo;
let corp: ForestInfo;
let pipeline: Pipeline;
let kafka: KafkaClient;
let producer: KafkaProducer;

async function drained(): Promise<boolean> {
  const s = await pipeline.api<{ forests: Array<{ lag: { transformer: number | null } }>; lag: { graphWriter: number | null } }>('GET', '/v1/status');
  return (s.lag.graphWriter ?? 0) === 0 && s.forests.every((f) => (f.lag.transformer ?? 0) === 0);
}

/** A valid user snapshot of the corp forest, as the reader would publish it. */
function userEvent(tag: string) {
  const guid = guidFromString(randomUUID());
  const e = sampleMessages.adObjectEvent();
  const cn = `Poison Survivor ${tag}`;
  return {
    guid,
    value: codecs.adObjectEvent.encode({
      ...e,
      objectGuid: guid,
      objectClass: 'USER',
      dn: `CN=${cn},OU=Sales,OU=Departments,OU=Canopy,${corp.baseDn}`,
      attributes: { cn: [cn], displayname: [cn], samaccountname: [`ps${tag}`], userprincipalname: [`ps.${tag}@${corp.name}`], useraccountcontrol: ['512'] },
      binaryAttributes: {},
      members: null,
      memberOf: [],
    }),
  };
}

beforeAll(async () => {
  // The global set-up brought the stack up; this suite needs only Kafka and Redis of it.
  stack = readStackInfo();
  corp = getForest(stack, 'corp');
  pipeline = await startPipeline({
    stack,
    stateDir: mkdtempSync(join(tmpdir(), 'canopy-poison-')),
    namespace: ns,
    quotaMultiplier: 20,
    readers: {},
    configYaml: (em, clientId) => sampleConfigYaml(stack, em, clientId),
  });
  kafka = new KafkaClient(kafkaOptionsSchema.parse({ brokers: stack.kafka.brokers, clientId: `poison-${run}`, namespace: ns }), log);
  await kafka.admin().ensureTopics([{ name: adObjectsTopic(corp.name), partitions: 3, config: TOPICS.adObjects.config }]);
  producer = await kafka.producer();
}, 180_000);

afterAll(async () => {
  const codes = await pipeline?.stop();
  await producer?.disconnect();
  const redis = new Redis(stack.redis.url);
  await deleteNamespace(kafka, redis, `${ns}:`).finally(async () => {
    redis.disconnect();
    await kafka.close();
  });
  // Every stage was still running at the end and stopped cleanly (a crashed one is not in the list).
  expect(codes?.map((c) => c.name).sort()).toEqual(['graph-emulator', 'graph-writer-1', 'scheduler', 'transformer']);
  expect(codes?.filter((c) => c.code !== 0)).toEqual([]);
}, 120_000);

describe('poison messages in every topic', () => {
  it('data topics dead-letter them with the reason; every stage keeps going', async () => {
    // Before: the pipeline works (so "after" means something).
    const first = userEvent(`a${run}`);
    await producer.send(adObjectsTopic(corp.name), [{ key: keys.adObject(first.guid), value: first.value }]);
    const written = async (guid: Buffer) => {
      const r = await pipeline.api<{ stage: string; outcome: string }>('GET', `/v1/objects?forest=${encodeURIComponent(corp.name)}&target=${guidToString(guid)}`).catch(() => undefined);
      return r?.stage === 'WRITER' && r.outcome === 'CREATED';
    };
    await waitFor('a valid event written before the poison', () => written(first.guid), { timeoutMs: 90_000, intervalMs: 1000 });

    const topics = (await kafka.admin().listTopics()).filter((t) => !t.startsWith('__'));
    expect(topics).toEqual(expect.arrayContaining([adObjectsTopic(corp.name), TOPICS.entraOps.name, TOPICS.syncResults.name, TOPICS.deadLetters.name, TOPICS.config.name, TOPICS.control.name, TOPICS.controlAcks.name, TOPICS.heldDeletes.name]));
    const foreign = codecs.configDocument.encode(sampleMessages.configDocument());
    const poison = (topic: string) => [
      { label: 'random bytes', value: randomBytes(64) },
      { label: 'unknown schema fingerprint', value: Buffer.concat([Buffer.from([0xc3, 0x01]), randomBytes(8), randomBytes(40)]) },
      { label: 'truncated', value: codecs.syncResult.encode(sampleMessages.syncResult()).subarray(0, 20) },
      { label: 'JSON', value: Buffer.from(JSON.stringify({ hostile: topic, '\u0000': '\u202e' })) },
      { label: 'another schema', value: topic === TOPICS.config.name ? codecs.syncResult.encode(sampleMessages.syncResult()) : foreign },
    ];
    let injected = 0;
    for (const topic of topics) {
      const msgs = poison(topic).map((p, i) => ({ key: `poison-${run}-${i}`, value: p.value, headers: { poison: p.label } }));
      await producer.send(topic, msgs);
      injected += msgs.length;
    }
    // Every forest of the configuration has its object topic (no reader publishes to them here).
    const dataTopics = [...topics.filter((t) => t.startsWith(TOPICS.adObjects.name)), TOPICS.entraOps.name];
    const dead = await waitFor(
      'every data topic\u2019s poison on the dead-letter topic',
      async () => {
        const found: DeadLetter[] = [];
        await kafka.readToEnd(TOPICS.deadLetters.name, (m) => {
          try {
            const d = codecs.deadLetter.decode(m.value);
            if (d.key?.toString().startsWith(`poison-${run}-`)) found.push(d);
          } catch {
            // the poison we put into the dead-letter topic itself
          }
        });
        return dataTopics.every((t) => found.filter((d) => d.sourceTopic === t).length >= 5) ? found : false;
      },
      { timeoutMs: 90_000, intervalMs: 2000 },
    );
    for (const topic of dataTopics) {
      const here = dead.filter((d) => d.sourceTopic === topic);
      expect(here.length, topic).toBe(5);
      for (const d of here) {
        expect(d.reason, topic).toMatch(/undecodable|schema|decode|Avro/i);
        expect(d.value?.length, `${topic}: the original message is kept whole`).toBeGreaterThan(0);
      }
    }
    // The dead letters are listed by the control API, and the poison in the other topics did not stop anything.
    const listed = await pipeline.api<unknown[]>('GET', '/v1/dlq?all=true&limit=1000');
    expect(JSON.stringify(listed)).toMatch(/undecodable/);
    const second = userEvent(`b${run}`);
    await producer.send(adObjectsTopic(corp.name), [{ key: keys.adObject(second.guid), value: second.value }]);
    await waitFor('a valid event written after the poison', () => written(second.guid), { timeoutMs: 90_000, intervalMs: 1000 });
    await pipeline.api('POST', `/v1/forests/${encodeURIComponent(corp.name)}/pause`, {});
    await pipeline.api('POST', `/v1/forests/${encodeURIComponent(corp.name)}/resume`, {});
    for (const path of ['/v1/status', '/v1/config', `/v1/deletes?forest=${encodeURIComponent(corp.name)}`, `/v1/failures?forest=${encodeURIComponent(corp.name)}`]) await pipeline.api('GET', path);
    await waitFor('lag drained after the poison', () => drained(), { timeoutMs: 60_000, intervalMs: 1000 });
    process.stderr.write(`[poison] ${injected} poison messages into ${topics.length} topics; ${dead.length} dead letters from the ${dataTopics.length} data topics, each with its reason; every stage kept going\n`);
  }, 240_000);
});
