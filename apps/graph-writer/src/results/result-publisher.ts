import { randomUUID } from 'node:crypto';
import { codecs, keys, type DeadLetter, type EntraOperation, type ErrorInfo, type Outcome, type SyncResult } from '@canopy/contracts';
import { CanopyError } from '@canopy/errors';
import type { IncomingMessage, KafkaProducer, OutgoingMessage } from '@canopy/kafka';
import type { Logger } from '@canopy/logger';

/**
 * Every op ends in exactly one terminal SyncResult (stage WRITER) on canopy.sync.results;
 * permanent failures also go to the dead-letter topic with the original op bytes, so they can be
 * replayed after a fix. Results of many ops are sent together (a few ms of linger), and a caller
 * learns its result is durable (acks=all) before the op's offset is committed.
 */
export interface ResultTopics {
  results: string;
  deadLetters: string;
}

export function errorInfoOf(err: unknown): ErrorInfo {
  if (err instanceof CanopyError) {
    const d = err.details;
    return {
      type: err.type,
      code: typeof d.code === 'string' ? d.code : null,
      message: err.message,
      retriable: err.retriable,
      httpStatus: typeof d.httpStatus === 'number' ? d.httpStatus : null,
      attribute: typeof d.attribute === 'string' ? d.attribute : null,
      expression: null,
    };
  }
  return { type: 'Unclassified', code: null, message: err instanceof Error ? err.message : String(err), retriable: true, httpStatus: null, attribute: null, expression: null };
}

export function makeResult(
  op: EntraOperation,
  r: { outcome: Outcome; entraId: string | null; reason: string | null; changedProperties: string[]; error?: ErrorInfo | null; writes: number },
  now = new Date(),
): SyncResult {
  return {
    resultId: randomUUID(),
    opId: op.opId,
    forest: op.forest,
    objectGuid: op.objectGuid,
    sourceAnchor: op.sourceAnchor,
    dn: op.dn,
    targetType: op.targetType,
    stage: 'WRITER',
    outcome: r.outcome,
    entraId: r.entraId,
    reason: r.reason,
    error: r.error ?? null,
    writes: r.writes,
    changedProperties: r.changedProperties,
    configVersion: op.configVersion,
    at: now,
  };
}

export function makeDeadLetter(source: IncomingMessage, reason: string, errorType: string, retriable: boolean, attempts: number): DeadLetter {
  return {
    deadLetterId: randomUUID(),
    stage: 'WRITER',
    sourceTopic: source.topic,
    sourcePartition: source.partition,
    sourceOffset: Number(source.offset),
    key: source.key,
    value: source.value,
    headers: Object.fromEntries(Object.entries(source.headers).filter((e): e is [string, Buffer] => e[1] !== undefined)),
    reason,
    errorType,
    retriable,
    attempts,
    at: new Date(),
  };
}

interface Pending {
  results: OutgoingMessage[];
  dead: OutgoingMessage[];
  waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }>;
}

export class ResultPublisher {
  #pending: Pending = { results: [], dead: [], waiters: [] };
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly producer: KafkaProducer,
    private readonly topics: ResultTopics,
    private readonly log: Logger,
    private readonly lingerMs = 5,
    private readonly onResult?: (r: SyncResult) => void,
  ) {}

  /** Resolves once the result (and dead letter) are acknowledged by Kafka. */
  publish(result: SyncResult, dead?: DeadLetter): Promise<void> {
    this.#pending.results.push({ key: keys.syncResult(result), value: codecs.syncResult.encode(result) });
    if (dead) this.#pending.dead.push({ key: dead.key, value: codecs.deadLetter.encode(dead) });
    this.onResult?.(result);
    const p = new Promise<void>((resolve, reject) => this.#pending.waiters.push({ resolve, reject }));
    this.#timer ??= setTimeout(() => void this.flush(), this.lingerMs);
    return p;
  }

  /** A dead letter without a result (an undecodable message has no op to report on). */
  deadLetter(dead: DeadLetter): Promise<void> {
    this.#pending.dead.push({ key: dead.key, value: codecs.deadLetter.encode(dead) });
    const p = new Promise<void>((resolve, reject) => this.#pending.waiters.push({ resolve, reject }));
    this.#timer ??= setTimeout(() => void this.flush(), this.lingerMs);
    return p;
  }

  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = { results: [], dead: [], waiters: [] };
    if (!batch.waiters.length) return this.#flushing;
    this.#flushing = this.#flushing.then(async () => {
      try {
        await this.producer.sendBatch([
          { topic: this.topics.results, messages: batch.results },
          { topic: this.topics.deadLetters, messages: batch.dead },
        ]);
        for (const w of batch.waiters) w.resolve();
      } catch (err) {
        this.log.error({ err }, 'could not publish results; their ops will be replayed');
        for (const w of batch.waiters) w.reject(err);
      }
    });
    return this.#flushing;
  }
}
