import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { codecs, keys, type EntraOperation } from '@canopy/contracts';
import type { IncomingMessage, KafkaClient, KafkaConsumer, KafkaProducer } from '@canopy/kafka';
import type { Logger } from '@canopy/logger';

/**
 * Accidental-delete protection, as Connect and Cloud Sync have it: deletes per forest beyond
 * `threshold` within one cycle (op.cycleId) or one window are *held*: counted, listed, not
 * executed, until an admin approves or rejects them. Creates and updates keep flowing. When the
 * reader's cycle itself holds more deletes than the threshold (op.cycleDeletes, counted by the
 * reader over the whole DirSync pull) every delete of it is held, the first one included.
 *
 * Held deletes live in a compacted Kafka topic (key forest/anchor, value the op; a null value
 * once released), so they survive a writer crash and a Redis wipe. Every replica reads the topic
 * to its end at start and follows it, keeping the list in memory. Redis only counts deletes per
 * forest and window (a set of anchors, so replays do not count twice).
 */
export interface HeldDelete {
  key: string;
  forest: string;
  anchor: string;
  op: EntraOperation;
  raw: Buffer;
}

export interface DeleteThreshold {
  threshold: number;
  windowMs: number;
}

/** Which counting bucket a delete falls into: its cycle if it has one, else the time window. */
export function deleteWindowKey(op: Pick<EntraOperation, 'cycleId'>, now: number, windowMs: number): string {
  return op.cycleId ? `cycle:${op.cycleId}` : `window:${Math.floor(now / Math.max(1, windowMs))}`;
}

/**
 * Pure decision: hold when the forest already has held deletes, when this one is beyond the
 * threshold, or when the reader said its cycle holds more deletes than the threshold (then the
 * whole cycle is held, the first delete included: nothing is deleted until approved).
 */
export function shouldHold(countIncludingThis: number, threshold: number, forestHasHeld: boolean, cycleDeletes = 0): boolean {
  return forestHasHeld || countIncludingThis > threshold || cycleDeletes > threshold;
}

export class DeleteGuard {
  readonly #held = new Map<string, HeldDelete>();
  #follower: KafkaConsumer | undefined;
  #listeners = new Set<() => void>();

  constructor(
    private readonly kafka: KafkaClient,
    private readonly producer: KafkaProducer,
    private readonly redis: Redis,
    private readonly topic: string,
    private readonly redisPrefix: string,
    private readonly log: Logger,
  ) {}

  /** Read the held-deletes topic to its end, then follow it. */
  async start(): Promise<void> {
    const n = await this.kafka.readToEnd(this.topic, (m) => this.#ingest(m));
    this.log.info({ records: n, held: this.#held.size }, 'held deletes loaded');
    this.#follower = this.kafka.consumer({ groupId: `canopy-graph-writer-held-${randomUUID()}` });
    await this.#follower.subscribe({ topics: [this.topic], fromBeginning: false });
    await this.#follower.run(async (batch, ctx) => {
      for (const m of batch.messages) {
        this.#ingest(m);
        ctx.resolveOffset(m.offset);
      }
      for (const l of this.#listeners) l();
    });
  }

  async stop(): Promise<void> {
    await this.#follower?.stop();
  }

  onChange(l: () => void): void {
    this.#listeners.add(l);
  }

  #ingest(m: IncomingMessage): void {
    const key = m.key?.toString('utf8');
    if (!key) return;
    if (m.value === null) {
      this.#held.delete(key);
      return;
    }
    try {
      const op = codecs.entraOperation.decode(m.value);
      this.#held.set(key, { key, forest: op.forest, anchor: op.sourceAnchor, op, raw: m.value });
    } catch (err) {
      this.log.error({ err, key }, 'undecodable held delete ignored');
    }
  }

  held(forest?: string | null): HeldDelete[] {
    return [...this.#held.values()].filter((h) => !forest || h.forest === forest);
  }

  isHeld(forest: string, anchor: string): boolean {
    return this.#held.has(keys.heldDelete(forest, anchor));
  }

  count(): number {
    return this.#held.size;
  }

  /** Count this delete and say whether it must be held. */
  async decide(op: EntraOperation, limits: DeleteThreshold, now = Date.now()): Promise<{ hold: boolean; count: number }> {
    const forestHasHeld = this.held(op.forest).some((h) => h.anchor !== op.sourceAnchor);
    if (this.isHeld(op.forest, op.sourceAnchor)) return { hold: true, count: -1 };
    const key = `${this.redisPrefix}:deletes:${op.forest}:${deleteWindowKey(op, now, limits.windowMs)}`;
    const res = await this.redis.multi().sadd(key, op.sourceAnchor).scard(key).pexpire(key, Math.max(limits.windowMs, 3_600_000)).exec();
    const count = Number(res?.[1]?.[1] ?? 0);
    return { hold: shouldHold(count, limits.threshold, forestHasHeld, op.cycleDeletes ?? 0), count };
  }

  /** Record a held delete (acks=all) before its HELD result is published. */
  async hold(op: EntraOperation, raw: Buffer): Promise<void> {
    const key = keys.heldDelete(op.forest, op.sourceAnchor);
    await this.producer.send(this.topic, [{ key, value: raw }]);
    this.#held.set(key, { key, forest: op.forest, anchor: op.sourceAnchor, op, raw });
  }

  /** Remove a held delete (released, rejected or superseded). */
  async release(h: Pick<HeldDelete, 'key'>): Promise<void> {
    await this.producer.send(this.topic, [{ key: h.key, value: null }]);
    this.#held.delete(h.key);
  }

  /** After an approval or rejection the forest starts counting afresh. */
  async resetCount(forest: string): Promise<void> {
    let cursor = '0';
    do {
      const [next, found] = await this.redis.scan(cursor, 'MATCH', `${this.redisPrefix}:deletes:${forest}:*`, 'COUNT', 200);
      cursor = next;
      if (found.length) await this.redis.del(...found);
    } while (cursor !== '0');
  }
}
