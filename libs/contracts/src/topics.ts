import { guidToString } from './guid.js';

/**
 * Every Kafka topic Canopy uses, with its key convention, default partition count and topic
 * configuration. This file is the only place topic names are spelled.
 */
export interface TopicSpec {
  /** Topic name, or prefix for per-forest topics. */
  name: string;
  /** What the record key is. */
  key: string;
  /** What the record value is (schema name), or why it is empty. */
  value: string;
  partitions: number;
  config: Record<string, string>;
}

const COMPACTED = { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '60000' };

export const TOPICS = {
  /** Per forest: whole AD objects; compacted, so the topic *is* the connector space. */
  adObjects: {
    name: 'canopy.ad.objects.',
    key: 'objectGUID, canonical string form (guidToString)',
    value: 'ad-object-event',
    partitions: 6,
    config: { ...COMPACTED, 'delete.retention.ms': String(30 * 86_400_000) },
  },
  entraOps: {
    name: 'canopy.entra.ops',
    key: 'source anchor (base64 onPremisesImmutableId)',
    value: 'entra-operation',
    partitions: 12,
    config: { 'retention.ms': String(7 * 86_400_000) },
  },
  syncResults: {
    name: 'canopy.sync.results',
    key: 'source anchor, or forest/objectGUID when there is none',
    value: 'sync-result',
    partitions: 6,
    config: { 'retention.ms': String(30 * 86_400_000) },
  },
  deadLetters: {
    name: 'canopy.sync.dlq',
    key: 'the original message key',
    value: 'dead-letter',
    partitions: 1,
    config: { 'retention.ms': String(90 * 86_400_000) },
  },
  config: {
    name: 'canopy.config',
    key: "document id ('global' or 'forest/<name>')",
    value: 'config-document',
    partitions: 1,
    config: { ...COMPACTED, 'min.compaction.lag.ms': '0' },
  },
  control: {
    name: 'canopy.control',
    key: 'command id',
    value: 'control-command',
    partitions: 1,
    config: { 'retention.ms': String(7 * 86_400_000) },
  },
  controlAcks: {
    name: 'canopy.control.acks',
    key: 'command id',
    value: 'command-ack',
    partitions: 1,
    config: { 'retention.ms': String(7 * 86_400_000) },
  },
  /**
   * Deletes held by the writer's accidental-delete protection until an admin approves or rejects
   * them (compacted: the latest record per key is the state; a null value means released).
   */
  heldDeletes: {
    name: 'canopy.writer.held-deletes',
    key: 'forest/sourceAnchor',
    value: 'entra-operation (the held DELETE op), or null once released or rejected',
    partitions: 1,
    config: { ...COMPACTED, 'min.compaction.lag.ms': '0' },
  },
  readerCheckpoints: {
    name: 'canopy.reader.checkpoints',
    key: 'forest/namingContext',
    value: 'reader-checkpoint',
    partitions: 1,
    config: { ...COMPACTED, 'min.compaction.lag.ms': '0' },
  },
} as const satisfies Record<string, TopicSpec>;

const FOREST_NAME = /^[a-z0-9][a-z0-9.-]{0,62}$/;

/** Forest names become topic suffixes: lower-case DNS-like names only. */
export function assertForestName(forest: string): string {
  if (!FOREST_NAME.test(forest)) {
    throw new Error(`invalid forest name "${forest}": use lower-case letters, digits, '.' and '-' (max 63)`);
  }
  return forest;
}

export function adObjectsTopic(forest: string): string {
  return TOPICS.adObjects.name + assertForestName(forest);
}

/** Matches every forest's object topic (the transformer's pattern subscription). */
export const AD_OBJECTS_TOPIC_PATTERN = /^canopy\.ad\.objects\.[a-z0-9][a-z0-9.-]*$/;

export function forestOfTopic(topic: string): string | undefined {
  return AD_OBJECTS_TOPIC_PATTERN.test(topic) ? topic.slice(TOPICS.adObjects.name.length) : undefined;
}

/** Record keys, one function per convention. */
export const keys = {
  adObject: (objectGuid: Uint8Array) => guidToString(objectGuid),
  entraOp: (sourceAnchor: string) => sourceAnchor,
  syncResult: (r: { sourceAnchor: string | null; forest: string; objectGuid: Uint8Array | null }) =>
    r.sourceAnchor ?? `${r.forest}/${r.objectGuid ? guidToString(r.objectGuid) : 'unknown'}`,
  configDocument: (documentId: string) => documentId,
  controlCommand: (commandId: string) => commandId,
  heldDelete: (forest: string, sourceAnchor: string) => `${forest}/${sourceAnchor}`,
  readerCheckpoint: (forest: string, namingContext: string) => `${forest}/${namingContext.toLowerCase()}`,
};

/** Message header names carried across stages. */
export const HEADERS = {
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  usnChanged: 'canopy-usn-changed',
  readAt: 'canopy-read-at',
  readerId: 'canopy-reader-id',
  fencingToken: 'canopy-fencing-token',
  configVersion: 'canopy-config-version',
  sourceTopic: 'canopy-source-topic',
  sourcePartition: 'canopy-source-partition',
  sourceOffset: 'canopy-source-offset',
} as const;

/** Consumer group ids of the stages (the scheduler reads their lag). */
export const CONSUMER_GROUPS = {
  transformer: 'canopy-transformer',
  graphWriter: 'canopy-graph-writer',
} as const;
