import { randomUUID } from 'node:crypto';
import type { Logger } from '@canopy/logger';
import {
  Kafka,
  Partitioners,
  logLevel as KafkaLogLevel,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  type LogEntry,
  type Producer,
  type Transaction,
} from 'kafkajs';
import { classifyKafkaError } from './kafka-errors.js';
import { tlsOptions, type KafkaOptions } from './kafka-options.js';
import { silenceKafkajsNegativeTimeoutWarning } from './kafkajs-timeout-warning.js';

silenceKafkajsNegativeTimeoutWarning();

/**
 * The project's one Kafka wrapper. Nothing else imports kafkajs: kafkajs has had no release since
 * 2023, and this seam is where a maintained client (@platformatic/kafka, Confluent's) would go.
 * The types below are Canopy's own, not the library's.
 */

export type HeaderValue = string | Buffer;

/**
 * A namespace isolates several Canopy installations (or test suites) on one Kafka cluster: every
 * topic and consumer group name gets the prefix on the way out and loses it on the way in, so
 * the rest of the code only ever sees the names libs/contracts defines.
 */
export class TopicNamespace {
  readonly prefix: string;
  constructor(namespace = '') {
    this.prefix = namespace ? `${namespace}.` : '';
  }
  to(name: string): string {
    return this.prefix + name;
  }
  from(name: string): string {
    return this.prefix && name.startsWith(this.prefix) ? name.slice(this.prefix.length) : name;
  }
  owns(name: string): boolean {
    return !this.prefix || name.startsWith(this.prefix);
  }
}

export interface OutgoingMessage {
  key: string | Buffer | null;
  value: Buffer | null;
  headers?: Record<string, HeaderValue | undefined>;
  partition?: number;
  timestamp?: number;
}

export interface IncomingMessage {
  topic: string;
  partition: number;
  /** Offset as a decimal string (Kafka offsets are int64). */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | undefined>;
  timestamp: number;
}

export interface RecordPosition {
  topic: string;
  partition: number;
  /** Offset of the first record written by this send, as a decimal string. */
  baseOffset: string;
}

export interface TopicToCreate {
  name: string;
  partitions: number;
  config?: Record<string, string>;
  replicationFactor?: number;
}

export interface BatchContext {
  /** Mark `offset` of the batch's partition as processed (the next fetch starts after it). */
  resolveOffset(offset: string): void;
  /** Commit resolved offsets now. */
  commit(): Promise<void>;
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping or the partition was revoked: stop work early. */
  isRunning(): boolean;
  isStale(): boolean;
}

export interface MessageBatch {
  topic: string;
  partition: number;
  highWatermark: string;
  messages: IncomingMessage[];
}

export interface ConsumerOptions {
  groupId: string;
  /** Re-check pattern subscriptions for new topics this often (ms). Default 10 s. */
  topicRefreshMs?: number;
  sessionTimeoutMs?: number;
  maxBytesPerPartition?: number;
  /** Most bytes one fetch brings (all partitions). Default kafkajs's, 10 MiB. */
  maxBytes?: number;
  /** Read only committed records of transactional producers. Default true. */
  readCommitted?: boolean;
}

export interface SubscribeOptions {
  topics: Array<string | RegExp>;
  fromBeginning?: boolean;
}

export function headerString(headers: Record<string, Buffer | undefined>, name: string): string | undefined {
  const value = headers[name];
  return value === undefined ? undefined : value.toString('utf8');
}

function toIncoming(topic: string, partition: number, m: EachBatchPayload['batch']['messages'][number]): IncomingMessage {
  const headers: Record<string, Buffer | undefined> = {};
  for (const [k, v] of Object.entries((m.headers ?? {}) as IHeaders)) {
    const first = Array.isArray(v) ? v[0] : v;
    headers[k] = first === undefined ? undefined : Buffer.isBuffer(first) ? first : Buffer.from(String(first));
  }
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key ?? null,
    value: m.value ?? null,
    headers,
    timestamp: Number(m.timestamp),
  };
}

function toKafkaHeaders(headers: OutgoingMessage['headers']): IHeaders | undefined {
  if (!headers) return undefined;
  const out: IHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = v;
  return out;
}

export class KafkaProducer {
  constructor(
    private readonly producer: Producer,
    private readonly log: Logger,
    private readonly ns: TopicNamespace = new TopicNamespace(),
  ) {}

  /** Send with acks=all; resolves once every in-sync replica has the records. */
  async send(topic: string, messages: OutgoingMessage[]): Promise<RecordPosition[]> {
    if (messages.length === 0) return [];
    try {
      const res = await this.producer.send({
        topic: this.ns.to(topic),
        acks: -1,
        messages: messages.map((m) => ({
          key: m.key,
          value: m.value,
          headers: toKafkaHeaders(m.headers),
          ...(m.partition === undefined ? {} : { partition: m.partition }),
          ...(m.timestamp === undefined ? {} : { timestamp: String(m.timestamp) }),
        })),
      });
      return res.map((r) => ({ topic: this.ns.from(r.topicName), partition: r.partition, baseOffset: r.baseOffset ?? '-1' }));
    } catch (err) {
      throw classifyKafkaError(err, `send to ${topic} failed`);
    }
  }

  /** Send to several topics in one request (all acks=all). */
  async sendBatch(batches: Array<{ topic: string; messages: OutgoingMessage[] }>): Promise<void> {
    const topicMessages = batches
      .filter((b) => b.messages.length)
      .map((b) => ({
        topic: this.ns.to(b.topic),
        messages: b.messages.map((m) => ({ key: m.key, value: m.value, headers: toKafkaHeaders(m.headers) })),
      }));
    if (!topicMessages.length) return;
    try {
      await this.producer.sendBatch({ acks: -1, topicMessages });
    } catch (err) {
      throw classifyKafkaError(err, `send to ${topicMessages.map((t) => t.topic).join(', ')} failed`);
    }
  }

  /**
   * Begin a transaction (transactional producers only). Everything sent through it becomes
   * visible to read_committed consumers atomically on commit(), or never (abort()). A newer
   * producer with the same transactionalId fences this one: its next send/commit throws a
   * FencedError (type Kafka.Fenced).
   */
  async transaction(): Promise<KafkaTransaction> {
    try {
      return new KafkaTransaction(await this.producer.transaction(), this.ns);
    } catch (err) {
      throw classifyKafkaError(err, 'begin transaction failed');
    }
  }

  /**
   * Register this transactional id with the coordinator now (kafkajs does it lazily at the first
   * transaction): this fences every older producer with the same id at once.
   */
  async initTransactions(): Promise<void> {
    const tx = await this.transaction();
    await tx.abort();
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect().catch((err: unknown) => this.log.warn({ err }, 'producer disconnect failed'));
  }
}

/** One open Kafka transaction (see KafkaProducer.transaction). */
export class KafkaTransaction {
  constructor(
    private readonly tx: Transaction,
    private readonly ns: TopicNamespace = new TopicNamespace(),
  ) {}

  async send(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    try {
      await this.tx.send({
        topic: this.ns.to(topic),
        acks: -1,
        messages: messages.map((m) => ({
          key: m.key,
          value: m.value,
          headers: toKafkaHeaders(m.headers),
          ...(m.partition === undefined ? {} : { partition: m.partition }),
        })),
      });
    } catch (err) {
      throw classifyKafkaError(err, `transactional send to ${topic} failed`);
    }
  }

  async commit(): Promise<void> {
    try {
      await this.tx.commit();
    } catch (err) {
      throw classifyKafkaError(err, 'transaction commit failed');
    }
  }

  /** Abort; never throws for a transaction that is already gone (fenced or ended). */
  async abort(): Promise<void> {
    if (!this.tx.isActive()) return;
    await this.tx.abort().catch(() => undefined);
  }
}

export class KafkaConsumer {
  #running = false;
  #subscription: SubscribeOptions | undefined;
  #subscribedTopics = new Set<string>();
  #refreshTimer: NodeJS.Timeout | undefined;
  #refreshing = false;
  #handler: ((batch: MessageBatch, ctx: BatchContext) => Promise<void>) | undefined;
  #consumer: Consumer;
  /** Messages behind the end of each assigned partition after the last batch ("topic:partition"). */
  readonly #lag = new Map<string, { topic: string; partition: number; lag: number }>();

  constructor(
    private readonly kafka: Kafka,
    private readonly admin: KafkaAdmin,
    readonly options: ConsumerOptions,
    private readonly log: Logger,
    private readonly ns: TopicNamespace = new TopicNamespace(),
  ) {
    this.#consumer = this.#create();
  }

  #create(): Consumer {
    const consumer = this.kafka.consumer({
      groupId: this.ns.to(this.options.groupId),
      sessionTimeout: this.options.sessionTimeoutMs ?? 30_000,
      maxBytesPerPartition: this.options.maxBytesPerPartition ?? 1_048_576,
      ...(this.options.maxBytes ? { maxBytes: this.options.maxBytes } : {}),
      readUncommitted: this.options.readCommitted === false,
      allowAutoTopicCreation: false,
    });
    // A rebalance may take partitions away: forget their lag (the new owner reports it).
    consumer.on(consumer.events.GROUP_JOIN, () => this.#lag.clear());
    return consumer;
  }

  /**
   * Consumer lag per assigned partition, as of the last batch handled from it: the high watermark
   * minus the offset after that batch's last message. What `canopy_<stage>_consumer_lag` reports.
   */
  lag(): Array<{ topic: string; partition: number; lag: number }> {
    return [...this.#lag.values()];
  }

  async subscribe(options: SubscribeOptions): Promise<void> {
    this.#subscription = options;
  }

  /**
   * Run the handler for every batch. Offsets are committed only for what the handler resolved
   * (no auto-resolve), so a crash mid-batch redelivers the rest: at-least-once.
   *
   * kafkajs resolves regex subscriptions once, at subscribe time; so patterns are re-evaluated
   * every `topicRefreshMs` and the consumer is restarted when a new matching topic appears
   * (a new forest's topic is picked up without a restart of the process).
   */
  async run(handler: (batch: MessageBatch, ctx: BatchContext) => Promise<void>): Promise<void> {
    if (!this.#subscription) throw new Error('subscribe() before run()');
    this.#handler = handler;
    this.#running = true;
    await this.#start();
    const patterns = this.#subscription.topics.filter((t): t is RegExp => t instanceof RegExp);
    if (patterns.length) {
      this.#refreshTimer = setInterval(() => void this.#refreshPatterns(), this.options.topicRefreshMs ?? 10_000);
      this.#refreshTimer.unref();
    }
  }

  async #resolveTopics(): Promise<string[]> {
    const subscription = this.#subscription!;
    const names = new Set<string>();
    const patterns: RegExp[] = [];
    for (const t of subscription.topics) {
      if (t instanceof RegExp) patterns.push(t);
      else names.add(t);
    }
    if (patterns.length) {
      for (const topic of await this.admin.listTopics()) if (patterns.some((p) => p.test(topic))) names.add(topic);
    }
    return [...names].sort();
  }

  async #start(): Promise<void> {
    const topics = await this.#resolveTopics();
    this.#subscribedTopics = new Set(topics);
    await this.#consumer.connect();
    if (topics.length) {
      await this.#consumer.subscribe({
        topics: topics.map((t) => this.ns.to(t)),
        fromBeginning: this.#subscription!.fromBeginning ?? false,
      });
    }
    const handler = this.#handler!;
    await this.#consumer.run({
      autoCommit: true,
      autoCommitInterval: 1000,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async (payload: EachBatchPayload) => {
        const { batch } = payload;
        const topic = this.ns.from(batch.topic);
        const messages = batch.messages.map((m) => toIncoming(topic, batch.partition, m));
        await handler(
          { topic, partition: batch.partition, highWatermark: batch.highWatermark, messages },
          {
            resolveOffset: (offset) => payload.resolveOffset(offset),
            commit: () => payload.commitOffsetsIfNecessary(),
            heartbeat: () => payload.heartbeat(),
            isRunning: () => payload.isRunning(),
            isStale: () => payload.isStale(),
          },
        );
        if (batch.messages.length) this.#lag.set(`${topic}:${batch.partition}`, { topic, partition: batch.partition, lag: Number(batch.offsetLag()) });
      },
    });
  }

  async #refreshPatterns(): Promise<void> {
    if (!this.#running || this.#refreshing) return;
    this.#refreshing = true;
    try {
      const topics = await this.#resolveTopics();
      const added = topics.filter((t) => !this.#subscribedTopics.has(t));
      if (!added.length) return;
      this.log.info({ added }, 'new topics match the subscription; restarting consumer to pick them up');
      await this.#consumer.disconnect();
      this.#consumer = this.#create();
      await this.#start();
    } catch (err) {
      this.log.warn({ err }, 'topic refresh failed; will retry');
    } finally {
      this.#refreshing = false;
    }
  }

  /** Topics currently consumed (after pattern resolution). */
  topics(): string[] {
    return [...this.#subscribedTopics];
  }

  pause(topics: string[]): void {
    this.#consumer.pause(topics.map((topic) => ({ topic: this.ns.to(topic) })));
  }

  resume(topics: string[]): void {
    this.#consumer.resume(topics.map((topic) => ({ topic: this.ns.to(topic) })));
  }

  seek(topic: string, partition: number, offset: string): void {
    this.#consumer.seek({ topic: this.ns.to(topic), partition, offset });
  }

  /** Stop fetching, let the in-flight batch finish, commit what it resolved, leave the group. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#refreshTimer) clearInterval(this.#refreshTimer);
    await this.#consumer.disconnect().catch((err: unknown) => this.log.warn({ err }, 'consumer disconnect failed'));
  }
}

export class KafkaAdmin {
  #connected: Promise<void> | undefined;
  constructor(
    private readonly admin: Admin,
    private readonly ns: TopicNamespace = new TopicNamespace(),
  ) {}

  #connect(): Promise<void> {
    return (this.#connected ??= this.admin.connect());
  }

  /**
   * Metadata calls right after a topic is created (or while a broker restarts) can meet
   * NOT_LEADER_FOR_PARTITION and the like: retry what the broker says is retriable, with backoff.
   */
  async #retry<T>(what: string, fn: () => Promise<T>, attempts = 6): Promise<T> {
    await this.#connect();
    for (let i = 1; ; i++) {
      try {
        return await fn();
      } catch (err) {
        const e = classifyKafkaError(err, what);
        // A missing topic is an answer, not a hiccup: callers decide (kafkajs calls it retriable).
        if (!e.retriable || e.type === 'Kafka.UNKNOWN_TOPIC_OR_PARTITION' || i >= attempts) throw e;
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** i, 1000)));
      }
    }
  }

  async listTopics(): Promise<string[]> {
    const all = await this.#retry('list topics failed', () => this.admin.listTopics());
    return all.filter((t) => this.ns.owns(t)).map((t) => this.ns.from(t));
  }

  /**
   * Create the topics that do not exist yet; existing ones are left as they are. A broker that has
   * just started, or a loaded one, may time out creating many topics at once (kafkajs waits 5 s by
   * default): retriable failures are retried for up to ~1 minute before a service's boot fails.
   */
  async ensureTopics(topics: TopicToCreate[]): Promise<string[]> {
    await this.#connect();
    const existing = new Set(await this.listTopics());
    const missing = topics.filter((t) => !existing.has(t.name));
    if (!missing.length) return [];
    for (let attempt = 1; ; attempt++) {
      const have = new Set(await this.listTopics());
      const todo = missing.filter((t) => !have.has(t.name));
      if (!todo.length) return missing.map((t) => t.name);
      try {
        await this.admin.createTopics({
          waitForLeaders: true,
          timeout: 30_000,
          topics: todo.map((t) => ({
            topic: this.ns.to(t.name),
            numPartitions: t.partitions,
            replicationFactor: t.replicationFactor ?? -1,
            configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })),
          })),
        });
        return missing.map((t) => t.name);
      } catch (err) {
        // Another replica may have created them meanwhile: that is fine.
        const again = new Set(await this.listTopics());
        if (todo.every((t) => again.has(t.name))) return missing.map((t) => t.name);
        const e = classifyKafkaError(err, `create topics failed (${todo.filter((t) => !again.has(t.name)).length} of ${todo.length} missing)`);
        if (!e.retriable || attempt >= 6) throw e;
        await new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** attempt, 10_000)));
      }
    }
  }

  async deleteTopics(names: string[]): Promise<void> {
    await this.#connect();
    await this.admin.deleteTopics({ topics: names.map((n) => this.ns.to(n)) }).catch((err: unknown) => {
      throw classifyKafkaError(err, 'delete topics failed');
    });
  }

  /** Low and high watermarks per partition. */
  async topicOffsets(topic: string): Promise<Array<{ partition: number; low: string; high: string }>> {
    const res = await this.#retry(`offsets of ${topic}`, () => this.admin.fetchTopicOffsets(this.ns.to(topic)));
    return res.map((p) => ({ partition: p.partition, low: p.low, high: p.high }));
  }

  /** First offset per partition at or after `timestamp` (ms), for replay --from <time>. */
  async offsetsAt(topic: string, timestamp: number): Promise<Array<{ partition: number; offset: string }>> {
    return this.#retry(`offsets of ${topic} at ${timestamp}`, () => this.admin.fetchTopicOffsetsByTimestamp(this.ns.to(topic), timestamp));
  }

  /** A group's committed offsets; with topicOffsets this gives consumer lag. */
  async groupOffsets(groupId: string, topics: string[]): Promise<Array<{ topic: string; partition: number; offset: string }>> {
    const res = await this.#retry(`offsets of group ${groupId}`, () =>
      this.admin.fetchOffsets({ groupId: this.ns.to(groupId), topics: topics.map((t) => this.ns.to(t)) }),
    );
    return res.flatMap((t) => t.partitions.map((p) => ({ topic: this.ns.from(t.topic), partition: p.partition, offset: p.offset })));
  }

  /** Lag of a consumer group summed per topic. */
  async groupLag(groupId: string, topics: string[]): Promise<Record<string, number>> {
    const committed = await this.groupOffsets(groupId, topics);
    const lag: Record<string, number> = {};
    for (const topic of topics) {
      const marks = await this.topicOffsets(topic);
      lag[topic] = marks.reduce((sum, m) => {
        const c = committed.find((x) => x.topic === topic && x.partition === m.partition);
        const from = c && Number(c.offset) >= 0 ? Number(c.offset) : Number(m.low);
        return sum + Math.max(0, Number(m.high) - from);
      }, 0);
    }
    return lag;
  }

  /** Move a (stopped) group's offsets, e.g. to replay from a time. */
  async setGroupOffsets(groupId: string, topic: string, partitions: Array<{ partition: number; offset: string }>): Promise<void> {
    await this.#connect();
    await this.admin.setOffsets({ groupId: this.ns.to(groupId), topic: this.ns.to(topic), partitions });
  }

  async disconnect(): Promise<void> {
    if (this.#connected) await this.admin.disconnect().catch(() => undefined);
  }
}

function kafkaLogCreator(log: Logger) {
  return () =>
    ({ level, log: entry }: LogEntry) => {
      const { message, ...rest } = entry;
      const fields = { kafka: rest };
      // kafkajs logs at ERROR what it is about to retry (a broker restart, a leader election);
      // failures that matter reach our code as thrown, classified errors, logged there.
      if (level === KafkaLogLevel.ERROR || level === KafkaLogLevel.WARN) log.warn(fields, message);
      else if (level === KafkaLogLevel.INFO) log.debug(fields, message);
      else log.trace(fields, message);
    };
}

export class KafkaClient {
  readonly #kafka: Kafka;
  readonly #admin: KafkaAdmin;
  readonly #ns: TopicNamespace;
  readonly #closeables: Array<{ disconnect(): Promise<void> } | { stop(): Promise<void> }> = [];

  constructor(
    readonly options: KafkaOptions,
    private readonly log: Logger,
  ) {
    process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
    if (options.tls.enabled && options.tls.insecureSkipVerify) {
      log.warn('Kafka TLS certificate verification is OFF (tls.insecureSkipVerify): never use this in production');
    }
    const ssl = tlsOptions(options);
    this.#kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      ...(ssl ? { ssl } : {}),
      ...(options.sasl
        ? {
            sasl: {
              mechanism: options.sasl.mechanism,
              username: options.sasl.username,
              password: options.sasl.password.reveal(),
            } as never,
          }
        : {}),
      connectionTimeout: options.connectionTimeout,
      requestTimeout: options.requestTimeout,
      logLevel: KafkaLogLevel.WARN,
      logCreator: kafkaLogCreator(log),
      retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 10_000 },
    });
    this.#ns = new TopicNamespace(options.namespace);
    this.#admin = new KafkaAdmin(this.#kafka.admin(), this.#ns);
  }

  admin(): KafkaAdmin {
    return this.#admin;
  }

  /**
   * An idempotent producer (acks=all, one in-flight request per connection so retries keep order);
   * optionally transactional.
   */
  async producer(options: { transactionalId?: string } = {}): Promise<KafkaProducer> {
    const producer = this.#kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      // An idempotent producer keeps retrying while the broker is away (a stage stalls, it does
      // not drop or reorder); limiting retries would break its sequence guarantees.
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 10_000 },
      ...(options.transactionalId ? { transactionalId: this.#ns.to(options.transactionalId) } : {}),
    });
    try {
      await producer.connect();
    } catch (err) {
      throw classifyKafkaError(err, 'producer connect failed');
    }
    const wrapped = new KafkaProducer(producer, this.log, this.#ns);
    this.#closeables.push(wrapped);
    return wrapped;
  }

  consumer(options: ConsumerOptions): KafkaConsumer {
    // The process-wide fetch sizes (kafka.consumer) unless the caller set its own.
    const fetch = this.options.consumer ?? {};
    const merged: ConsumerOptions = {
      ...(fetch.maxBytes ? { maxBytes: fetch.maxBytes } : {}),
      ...(fetch.maxBytesPerPartition ? { maxBytesPerPartition: fetch.maxBytesPerPartition } : {}),
      ...options,
    };
    const consumer = new KafkaConsumer(this.#kafka, this.#admin, merged, this.log, this.#ns);
    this.#closeables.push(consumer);
    return consumer;
  }

  /**
   * Read a whole topic from the beginning up to its current end, without a consumer group offset
   * of its own (compacted topics: configuration, checkpoints). Calls `onMessage` in order per
   * partition and resolves when every partition reached the high watermark seen at the start.
   */
  async readToEnd(topic: string, onMessage: (m: IncomingMessage) => void | Promise<void>): Promise<number> {
    const ends = await this.#admin.topicOffsets(topic);
    const pending = new Map(ends.filter((e) => Number(e.high) > Number(e.low)).map((e) => [e.partition, e.high]));
    if (pending.size === 0) return 0;
    const consumer = this.#kafka.consumer({ groupId: this.#ns.to(`canopy-reader-${randomUUID()}`), allowAutoTopicCreation: false });
    let count = 0;
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [this.#ns.to(topic)], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        // A transactional topic may end with a commit/abort marker, which eachMessage never sees:
        // the end-of-batch event still reports the batch's last offset (markers included).
        consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
          const high = pending.get(payload.partition);
          if (high !== undefined && BigInt(payload.lastOffset) + 1n >= BigInt(high)) pending.delete(payload.partition);
          if (pending.size === 0) resolve();
        });
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              await onMessage(toIncoming(topic, partition, message));
              count++;
              const high = pending.get(partition);
              if (high !== undefined && BigInt(message.offset) + 1n >= BigInt(high)) pending.delete(partition);
              if (pending.size === 0) resolve();
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    return count;
  }

  /**
   * Read a range of a topic without touching any consumer group's offsets: from `from` (per
   * partition; missing partitions start at their low watermark) up to the high watermarks seen
   * at the start. Batches arrive in offset order per partition. `onBatch` returning false stops
   * early. Resolves with the number of messages delivered. Used by replay and explain.
   */
  async readRange(
    topic: string,
    from: Map<number, bigint>,
    onBatch: (messages: IncomingMessage[]) => void | boolean | Promise<void | boolean>,
  ): Promise<number> {
    const marks = await this.#admin.topicOffsets(topic);
    const start = new Map(marks.map((m) => [m.partition, from.get(m.partition) ?? BigInt(m.low)]));
    const pending = new Map(
      marks.filter((m) => BigInt(m.high) > (start.get(m.partition) ?? 0n)).map((m) => [m.partition, BigInt(m.high)]),
    );
    if (pending.size === 0) return 0;
    const consumer = this.#kafka.consumer({ groupId: this.#ns.to(`canopy-range-${randomUUID()}`), allowAutoTopicCreation: false });
    let count = 0;
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [this.#ns.to(topic)], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        let stopped = false;
        const finish = () => {
          stopped = true;
          resolve();
        };
        // Progress is judged on each batch's last offset as the broker reports it, which counts
        // transaction markers (a transactional topic may end with one that no handler sees).
        consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
          const end = pending.get(payload.partition);
          if (end !== undefined && BigInt(payload.lastOffset) + 1n >= end) pending.delete(payload.partition);
          if (pending.size === 0 && !stopped) finish();
        });
        consumer
          .run({
            autoCommit: false,
            // Offsets are resolved as batches complete, so the next fetch moves on; nothing is
            // committed for this throw-away group.
            eachBatchAutoResolve: true,
            eachBatch: async ({ batch }) => {
              if (stopped) return;
              const first = start.get(batch.partition) ?? 0n;
              const end = pending.get(batch.partition);
              if (end === undefined) return;
              const messages = batch.messages
                .filter((m) => BigInt(m.offset) >= first && BigInt(m.offset) < end)
                .map((m) => toIncoming(topic, batch.partition, m));
              if (messages.length) {
                count += messages.length;
                if ((await onBatch(messages)) === false) finish();
              }
            },
          })
          .then(() => {
            for (const [partition, offset] of start) consumer.seek({ topic: this.#ns.to(topic), partition, offset: offset.toString() });
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    return count;
  }

  /** The single record at `offset` of `topic`/`partition`, or null when it is gone (compacted). */
  async fetchOne(topic: string, partition: number, offset: bigint): Promise<IncomingMessage | null> {
    let found: IncomingMessage | null = null;
    const marks = await this.#admin.topicOffsets(topic);
    const from = new Map(marks.map((m) => [m.partition, m.partition === partition ? offset : BigInt(m.high)]));
    await this.readRange(topic, from, (messages) => {
      found = messages.find((m) => m.partition === partition && BigInt(m.offset) >= offset) ?? null;
      return found === null;
    });
    return found;
  }

  /** Disconnect every producer, consumer and the admin client this client made. */
  async close(): Promise<void> {
    for (const c of this.#closeables.reverse()) {
      await ('stop' in c ? c.stop() : c.disconnect()).catch(() => undefined);
    }
    await this.#admin.disconnect();
  }
}
