import { TOPICS, codecs, type DeadLetter } from '@canopy/contracts';
import { InputError } from '@canopy/errors';
import type { KafkaClient, KafkaProducer } from '@canopy/kafka';
import type { Logger } from '@canopy/logger';
import type { RedisClient } from '@canopy/redis';

export interface DeadLetterView {
  deadLetterId: string;
  stage: string;
  source: string;
  key: string | null;
  reason: string;
  errorType: string;
  retriable: boolean;
  at: string;
  retriedAt: string | null;
}

const retriedKey = (id: string) => `dlq:retried:${id}`;

/** `dlq list|retry`: dead letters are kept whole, so a retry re-sends the original message. */
export class DeadLettersService {
  constructor(
    private readonly kafka: KafkaClient,
    private readonly producer: KafkaProducer,
    private readonly redis: RedisClient,
    private readonly log: Logger,
  ) {}

  async #all(): Promise<DeadLetter[]> {
    const all: DeadLetter[] = [];
    await this.kafka.readToEnd(TOPICS.deadLetters.name, (m) => {
      try {
        all.push(codecs.deadLetter.decode(m.value));
      } catch (err) {
        this.log.warn({ err, offset: m.offset }, 'undecodable dead letter skipped');
      }
    });
    return all.sort((a, b) => b.at.getTime() - a.at.getTime());
  }

  async list(options: { limit?: number; stage?: string; includeRetried?: boolean } = {}): Promise<DeadLetterView[]> {
    const views: DeadLetterView[] = [];
    for (const d of await this.#all()) {
      if (options.stage && d.stage !== options.stage.toUpperCase()) continue;
      const retriedAt = await this.redis.get(retriedKey(d.deadLetterId));
      if (retriedAt && !options.includeRetried) continue;
      views.push({
        deadLetterId: d.deadLetterId,
        stage: d.stage,
        source: `${d.sourceTopic}/${d.sourcePartition}@${d.sourceOffset}`,
        key: d.key ? d.key.toString('utf8') : null,
        reason: d.reason,
        errorType: d.errorType,
        retriable: d.retriable,
        at: d.at.toISOString(),
        retriedAt,
      });
      if (views.length >= (options.limit ?? 100)) break;
    }
    return views;
  }

  /** Re-send the original messages of the given dead letters (or all not yet retried) to their source topics. */
  async retry(ids: string[] | 'all'): Promise<{ retried: string[]; unknown: string[] }> {
    const all = await this.#all();
    const wanted =
      ids === 'all'
        ? (await Promise.all(all.map(async (d) => ((await this.redis.get(retriedKey(d.deadLetterId))) ? null : d)))).filter((d): d is DeadLetter => d !== null)
        : all.filter((d) => ids.includes(d.deadLetterId));
    const unknown = ids === 'all' ? [] : ids.filter((id) => !all.some((d) => d.deadLetterId === id));
    if (ids !== 'all' && !ids.length) throw new InputError('name the dead letters to retry, or "all"');
    for (const d of wanted) {
      await this.producer.send(d.sourceTopic, [
        { key: d.key, value: d.value, headers: { ...d.headers, 'canopy-retry-of': d.deadLetterId } },
      ]);
      await this.redis.set(retriedKey(d.deadLetterId), new Date().toISOString());
    }
    this.log.info({ retried: wanted.length }, 'dead letters retried');
    return { retried: wanted.map((d) => d.deadLetterId), unknown };
  }
}
