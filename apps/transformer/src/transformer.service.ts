import type { ConfigStore } from '@canopy/central-config';
import { AD_OBJECTS_TOPIC_PATTERN, CONSUMER_GROUPS, TOPICS, forestOfTopic } from '@canopy/contracts';
import type { KafkaClient, KafkaConsumer, KafkaProducer } from '@canopy/kafka';
import type { Logger } from '@canopy/logger';
import { setLag, type Readiness, type ServiceMetrics } from '@canopy/service-runtime';
import { transformBatch } from '@canopy/transform-batch';
import { RulesCache } from './rules-cache.js';

/**
 * Consumes canopy.ad.objects.* (a pattern: new forests are picked up without a restart), applies
 * the forest's rules and produces canopy.entra.ops (keyed by source anchor), plus results and
 * dead letters.
 *
 * Delivery: idempotent at-least-once with downstream dedup, not Kafka transactions. Outputs of a
 * batch are produced (acks=all, idempotent producer) before the batch's offsets are resolved, so a
 * crash redelivers and re-produces the same ops (deterministic opIds). The writer makes that safe:
 * it resolves targets by anchor and skips an op whose desired state hash it has already applied,
 * so a duplicate costs a Redis lookup, not a Graph write. Transactions would add a commit round
 * trip per batch and a producer per input partition assignment for zombie fencing in kafkajs,
 * for no change in the tenant.
 */
export class TransformerService {
  readonly #rules = new RulesCache();
  readonly #pausedTopics = new Map<string, string>();
  #consumer: KafkaConsumer | undefined;
  readonly #m;

  constructor(
    private readonly kafka: KafkaClient,
    private readonly producer: KafkaProducer,
    private readonly store: ConfigStore,
    private readonly log: Logger,
    private readonly readiness: Readiness,
    metrics: ServiceMetrics,
    private readonly topicRefreshMs: number,
  ) {
    this.#m = {
      messages: metrics.counter('messages_total', 'AD object events consumed', ['forest']),
      ops: metrics.counter('ops_total', 'Entra operations produced', ['forest', 'action']),
      results: metrics.counter('results_total', 'Results produced by the transformer', ['forest', 'outcome']),
      deadLetters: metrics.counter('dead_letters_total', 'Messages sent to the dead-letter topic', ['forest']),
      batchSeconds: metrics.histogram('batch_duration_seconds', 'Time to transform and produce one batch', ['forest']),
      pausedForests: metrics.gauge('paused_forests', 'Forests whose topic is paused for lack of valid configuration'),
      lag: metrics.gauge('consumer_lag', 'AD object events not yet consumed, per forest topic (this replica\'s partitions, as of its last batch)', ['topic']),
    };
    (this.#m.lag as unknown as { collect: () => void }).collect = () => setLag(this.#m.lag, this.#consumer?.lag() ?? []);
  }

  async start(): Promise<void> {
    this.store.onChange(() => this.#resumeConfigured());
    this.#consumer = this.kafka.consumer({ groupId: CONSUMER_GROUPS.transformer, topicRefreshMs: this.topicRefreshMs });
    await this.#consumer.subscribe({ topics: [AD_OBJECTS_TOPIC_PATTERN], fromBeginning: true });
    await this.#consumer.run(async (batch, ctx) => {
      const forest = forestOfTopic(batch.topic)!;
      const lookup = this.#rules.get(forest, this.store.snapshot());
      if (!lookup.ok) {
        // Nothing is dropped: the topic waits (offsets not resolved) until configuration arrives.
        if (!this.#pausedTopics.has(batch.topic)) {
          this.log.error({ forest, reason: lookup.reason }, 'pausing forest until its configuration is valid');
          this.#pausedTopics.set(batch.topic, forest);
          this.#m.pausedForests.set(this.#pausedTopics.size);
          this.#consumer!.pause([batch.topic]);
        }
        return;
      }
      const stop = this.#m.batchSeconds.startTimer({ forest });
      const out = transformBatch(batch.messages, lookup.rules, lookup.configVersion);
      await this.producer.sendBatch([
        { topic: TOPICS.entraOps.name, messages: out.ops },
        { topic: TOPICS.syncResults.name, messages: out.results },
        { topic: TOPICS.deadLetters.name, messages: out.deadLetters },
      ]);
      ctx.resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
      await ctx.commit();
      stop();
      this.#m.messages.inc({ forest }, batch.messages.length);
      for (const [action, n] of Object.entries(out.counts.ops)) this.#m.ops.inc({ forest, action }, n);
      for (const [outcome, n] of Object.entries(out.counts.outcomes)) this.#m.results.inc({ forest, outcome }, n);
      this.#m.deadLetters.inc({ forest }, out.deadLetters.length);
    });
    this.readiness.set('kafka-consumer', true);
  }

  #resumeConfigured(): void {
    for (const [topic, forest] of [...this.#pausedTopics]) {
      if (this.#rules.get(forest, this.store.snapshot()).ok) {
        this.log.info({ forest }, 'configuration is valid again: resuming forest');
        this.#pausedTopics.delete(topic);
        this.#consumer?.resume([topic]);
      }
    }
    this.#m.pausedForests.set(this.#pausedTopics.size);
  }

  /** Stop intake; the in-flight batch finishes and commits what it produced. */
  async stop(): Promise<void> {
    this.readiness.set('kafka-consumer', false, 'stopping');
    await this.#consumer?.stop();
  }
}
