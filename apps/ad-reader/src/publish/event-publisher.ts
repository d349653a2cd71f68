import { randomUUID } from 'node:crypto';
import {
  HEADERS,
  TOPICS,
  adObjectsTopic,
  codecs,
  keys,
  sourceAnchorOf,
  type AdObjectEvent,
  type ReaderCheckpoint,
  type SyncResult,
} from '@canopy/contracts';
import type { KafkaProducer, OutgoingMessage } from '@canopy/kafka';
import type { Logger } from '@canopy/logger';
import { newTraceparent } from './traceparent.js';

/** Kafka's default max.message.bytes is ~1 MB; leave room for key, headers and batch overhead. */
export const DEFAULT_MAX_EVENT_BYTES = 900_000;
/** Bytes per transactional send: one record batch per partition must stay under the broker limit. */
const MAX_SEND_BYTES = 900_000;

export interface PublishOutcome {
  events: number;
  oversized: number;
  bytes: number;
}

export interface EncodedEvent {
  message: OutgoingMessage;
  size: number;
}

/** Encode one event with its headers, or explain why it cannot be sent. */
export function encodeEvent(
  event: AdObjectEvent,
  fencingToken: number,
  maxBytes = DEFAULT_MAX_EVENT_BYTES,
): { ok: true; encoded: EncodedEvent } | { ok: false; size: number } {
  const value = codecs.adObjectEvent.encode(event);
  const key = keys.adObject(event.objectGuid);
  const headers = {
    [HEADERS.usnChanged]: String(event.usnChanged),
    [HEADERS.readAt]: event.readAt.toISOString(),
    [HEADERS.readerId]: event.readerId,
    [HEADERS.fencingToken]: String(fencingToken),
    [HEADERS.traceparent]: newTraceparent(),
  };
  const size = value.length + key.length + Object.entries(headers).reduce((n, [k, v]) => n + k.length + v.length, 0);
  if (size > maxBytes) return { ok: false, size };
  return { ok: true, encoded: { message: { key, value, headers }, size } };
}

export function oversizedResult(event: AdObjectEvent, size: number, maxBytes: number, configVersion: number): SyncResult {
  const consistency = event.binaryAttributes['ms-ds-consistencyguid']?.[0] ?? null;
  return {
    resultId: randomUUID(),
    opId: null,
    forest: event.forest,
    objectGuid: event.objectGuid,
    sourceAnchor: sourceAnchorOf(event.objectGuid, consistency),
    dn: event.dn,
    targetType: event.objectClass,
    stage: 'READER',
    outcome: 'FAILED',
    entraId: null,
    reason: `object too large for Kafka: ${size} bytes encoded, limit ${maxBytes}; not emitted (the rest of the stream continues)`,
    error: {
      type: 'Reader.ObjectTooLarge',
      code: null,
      message: `encoded event is ${size} bytes (limit ${maxBytes})`,
      retriable: false,
      httpStatus: null,
      attribute: null,
      expression: null,
    },
    writes: 0,
    changedProperties: [],
    configVersion,
    at: new Date(),
  };
}

export function encodeSyncResult(r: SyncResult): OutgoingMessage {
  return { key: keys.syncResult(r), value: codecs.syncResult.encode(r) };
}

export function encodeCheckpoint(c: ReaderCheckpoint): OutgoingMessage {
  return { key: keys.readerCheckpoint(c.forest, c.namingContext), value: codecs.readerCheckpoint.encode(c) };
}

function bySize(messages: EncodedEvent[]): OutgoingMessage[][] {
  const out: OutgoingMessage[][] = [];
  let current: OutgoingMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    if (current.length && bytes + m.size > MAX_SEND_BYTES) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m.message);
    bytes += m.size + 64;
  }
  if (current.length) out.push(current);
  return out;
}

/**
 * Writes events, per-object failures and checkpoints in ONE Kafka transaction: read_committed
 * consumers see all of it or none, and a checkpoint is never visible without the events it
 * covers. The producer's transactional id is per forest, so a newer active reader fences this
 * one at the broker (its commit fails with FencedError).
 */
export class EventPublisher {
  constructor(
    private readonly producer: KafkaProducer,
    private readonly forest: string,
    private readonly log: Logger,
    private readonly options: { maxEventBytes: number; configVersion: () => number },
    private readonly hooks: { onEvent?: (e: AdObjectEvent) => void; beforeCommit?: () => void } = {},
  ) {}

  async publish(events: AdObjectEvent[], checkpoints: ReaderCheckpoint[], fencingToken: number, extraResults: SyncResult[] = []): Promise<PublishOutcome> {
    const encoded: EncodedEvent[] = [];
    const results: SyncResult[] = [...extraResults];
    for (const event of events) {
      const res = encodeEvent(event, fencingToken, this.options.maxEventBytes);
      if (res.ok) encoded.push(res.encoded);
      else {
        this.log.warn({ dn: event.dn, size: res.size, limit: this.options.maxEventBytes }, 'object too large for Kafka; reported, not emitted');
        results.push(oversizedResult(event, res.size, this.options.maxEventBytes, this.options.configVersion()));
      }
    }
    if (!encoded.length && !results.length && !checkpoints.length) return { events: 0, oversized: 0, bytes: 0 };
    const tx = await this.producer.transaction();
    try {
      const topic = adObjectsTopic(this.forest);
      for (const part of bySize(encoded)) await tx.send(topic, part);
      if (results.length) await tx.send(TOPICS.syncResults.name, results.map(encodeSyncResult));
      if (checkpoints.length) await tx.send(TOPICS.readerCheckpoints.name, checkpoints.map(encodeCheckpoint));
      this.hooks.beforeCommit?.();
      await tx.commit();
    } catch (err) {
      await tx.abort();
      throw err;
    }
    for (const e of events) this.hooks.onEvent?.(e);
    return { events: encoded.length, oversized: results.length - extraResults.length, bytes: encoded.reduce((n, e) => n + e.size, 0) };
  }
}
