import { randomUUID } from 'node:crypto';
import { AD_OBJECTS_TOPIC_PATTERN, codecs, forestOfTopic, guidToString } from '@canopy/contracts';
import type { KafkaClient, KafkaConsumer } from '@canopy/kafka';
import type { Logger } from '@canopy/logger';
import type { RedisClient } from '@canopy/redis';

/** Where an object's latest snapshot sits in its forest topic. */
export interface ObjectLocation {
  guid: string;
  dn: string;
  kind: string;
  objectClass: string;
  topic: string;
  partition: number;
  offset: string;
  usnChanged: number;
  readAt: string;
}

export const indexKeys = {
  generation: 'idx:generation',
  byDn: (forest: string, dn: string) => `idx:${forest}:dn:${dn.toLowerCase()}`,
  byGuid: (forest: string, guid: string) => `idx:${forest}:guid:${guid.toLowerCase()}`,
};

/**
 * An index of the connector space (canopy.ad.objects.*): DN -> objectGUID -> where the latest
 * snapshot is (topic, partition, offset). It holds no object data, only positions, so it stays
 * small; `explain` and `preview` fetch the snapshot itself from Kafka. Rebuildable like the log.
 */
export class ObjectIndex {
  #consumer: KafkaConsumer | undefined;

  constructor(
    private readonly kafka: KafkaClient,
    private readonly redis: RedisClient,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    let generation = await this.redis.get(indexKeys.generation);
    if (!generation) {
      generation = randomUUID();
      await this.redis.set(indexKeys.generation, generation);
    }
    this.#consumer = this.kafka.consumer({ groupId: `canopy-object-index-${generation}`, topicRefreshMs: 5_000 });
    await this.#consumer.subscribe({ topics: [AD_OBJECTS_TOPIC_PATTERN], fromBeginning: true });
    await this.#consumer.run(async (batch, ctx) => {
      const forest = forestOfTopic(batch.topic)!;
      const p = this.redis.pipeline();
      for (const m of batch.messages) {
        try {
          const e = codecs.adObjectEvent.decode(m.value);
          const guid = guidToString(e.objectGuid);
          const loc: ObjectLocation = {
            guid,
            dn: e.dn,
            kind: e.kind,
            objectClass: e.objectClass,
            topic: batch.topic,
            partition: batch.partition,
            offset: m.offset,
            usnChanged: e.usnChanged,
            readAt: e.readAt.toISOString(),
          };
          p.set(indexKeys.byGuid(forest, guid), JSON.stringify(loc));
          p.set(indexKeys.byDn(forest, e.dn), guid);
        } catch {
          // undecodable messages are the transformer's to report (dead letters)
        }
      }
      await p.exec();
      ctx.resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
    });
    this.log.info('object index following canopy.ad.objects.*');
  }

  async locate(forest: string, target: string): Promise<ObjectLocation | null> {
    const guid = /^[0-9a-f-]{36}$/i.test(target) ? target.toLowerCase() : await this.redis.get(indexKeys.byDn(forest, target));
    if (!guid) return null;
    const raw = await this.redis.get(indexKeys.byGuid(forest, guid));
    return raw ? (JSON.parse(raw) as ObjectLocation) : null;
  }

  async stop(): Promise<void> {
    await this.#consumer?.stop();
  }
}
