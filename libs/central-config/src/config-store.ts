import { createHash, randomUUID } from 'node:crypto';
import { parseConfig } from '@canopy/config';
import { TOPICS, codecs, keys, type ConfigDocument } from '@canopy/contracts';
import { DecodeError } from '@canopy/errors';
import type { KafkaClient, KafkaConsumer, KafkaProducer } from '@canopy/kafka';
import type { Logger } from '@canopy/logger';
import {
  GLOBAL_DOCUMENT_ID,
  forestDocumentId,
  forestDocumentSchema,
  globalDocumentSchema,
  type ForestDocument,
  type GlobalDocument,
} from './config-documents.js';

export interface ConfigSnapshot {
  /** Highest document version seen: every op and result records it. */
  version: number;
  global: GlobalDocument | undefined;
  forests: ReadonlyMap<string, ForestDocument & { version: number }>;
}

export type ConfigListener = (snapshot: ConfigSnapshot, changed: string[]) => void;

/** Decode and validate one config document body. Invalid documents are reported, not applied. */
export function parseDocument(doc: ConfigDocument): { id: string; global?: GlobalDocument; forest?: ForestDocument } {
  const body: unknown = JSON.parse(doc.body);
  if (doc.kind === 'GLOBAL') return { id: doc.documentId, global: parseConfig(globalDocumentSchema, body) };
  return { id: doc.documentId, forest: parseConfig(forestDocumentSchema, body) };
}

/**
 * A live, in-memory view of canopy.config. `start()` reads the compacted topic to its end (so a
 * stage never starts on a partial configuration), then follows new versions and calls listeners:
 * every stage hot-reloads without a restart.
 */
export class ConfigStore {
  #version = 0;
  #global: GlobalDocument | undefined;
  readonly #forests = new Map<string, ForestDocument & { version: number }>();
  readonly #listeners = new Set<ConfigListener>();
  /** Each document's body as applied (JSON), for `config get` and `config diff`. */
  readonly #raw = new Map<string, unknown>();
  readonly #versionWaiters = new Set<() => void>();
  #consumer: KafkaConsumer | undefined;

  constructor(
    private readonly kafka: KafkaClient,
    private readonly log: Logger,
    private readonly instanceId: string = randomUUID(),
  ) {}

  snapshot(): ConfigSnapshot {
    return { version: this.#version, global: this.#global, forests: this.#forests };
  }

  get version(): number {
    return this.#version;
  }

  global(): GlobalDocument | undefined {
    return this.#global;
  }

  forest(name: string): (ForestDocument & { version: number }) | undefined {
    return this.#forests.get(name);
  }

  rawDocument(documentId: string): unknown {
    return this.#raw.get(documentId);
  }

  /** Resolve once a document of at least `version` has been applied (or reject after timeout). */
  waitForVersion(version: number, timeoutMs: number): Promise<void> {
    if (this.#version >= version) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.#version >= version) {
          clearTimeout(timer);
          this.#versionWaiters.delete(check);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        this.#versionWaiters.delete(check);
        reject(new Error(`configuration version ${version} not seen within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#versionWaiters.add(check);
    });
  }

  onChange(listener: ConfigListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Apply one encoded document (from the topic). Returns the changed document id, if any. */
  ingest(value: Buffer | null, key: string | undefined): string | undefined {
    if (value === null) {
      // Compaction tombstone: the document was removed.
      if (key?.startsWith('forest/')) this.#forests.delete(key.slice('forest/'.length));
      if (key) this.#raw.delete(key);
      return key;
    }
    let doc: ConfigDocument;
    try {
      doc = codecs.configDocument.decode(value);
    } catch (err) {
      this.log.error({ err: (err as DecodeError).toJSON?.() ?? String(err), key }, 'ignoring undecodable configuration document');
      return undefined;
    }
    try {
      if (doc.deleted) {
        if (doc.documentId.startsWith('forest/')) this.#forests.delete(doc.documentId.slice('forest/'.length));
        this.#raw.delete(doc.documentId);
      } else {
        const parsed = parseDocument(doc);
        if (parsed.global) this.#global = parsed.global;
        if (parsed.forest) this.#forests.set(parsed.forest.name, { ...parsed.forest, version: doc.version });
        this.#raw.set(doc.documentId, JSON.parse(doc.body));
      }
      this.#version = Math.max(this.#version, doc.version);
      for (const wake of [...this.#versionWaiters]) wake();
      return doc.documentId;
    } catch (err) {
      this.log.error({ err, documentId: doc.documentId, version: doc.version }, 'ignoring invalid configuration document');
      return undefined;
    }
  }

  async start(): Promise<void> {
    const initial = await this.kafka.readToEnd(TOPICS.config.name, (m) => void this.ingest(m.value, m.key?.toString()));
    this.log.info({ documents: initial, version: this.#version, forests: [...this.#forests.keys()] }, 'configuration loaded');
    this.#consumer = this.kafka.consumer({ groupId: `canopy-config-${this.instanceId}` });
    await this.#consumer.subscribe({ topics: [TOPICS.config.name], fromBeginning: false });
    await this.#consumer.run(async (batch, ctx) => {
      const changed: string[] = [];
      for (const m of batch.messages) {
        const id = this.ingest(m.value, m.key?.toString());
        if (id) changed.push(id);
        ctx.resolveOffset(m.offset);
      }
      if (changed.length) {
        this.log.info({ changed, version: this.#version }, 'configuration changed');
        for (const l of this.#listeners) l(this.snapshot(), changed);
      }
    });
  }

  async stop(): Promise<void> {
    await this.#consumer?.stop();
  }
}

/** Encode a validated document for canopy.config (the scheduler's apply uses this). */
export function encodeConfigDocument(
  input: { kind: 'GLOBAL'; body: unknown } | { kind: 'FOREST'; body: unknown },
  version: number,
  appliedBy: string,
  now = new Date(),
): { key: string; value: Buffer; document: ConfigDocument } {
  let documentId: string;
  let normalized: unknown;
  if (input.kind === 'GLOBAL') {
    parseConfig(globalDocumentSchema, input.body);
    documentId = GLOBAL_DOCUMENT_ID;
    normalized = input.body;
  } else {
    const forest = parseConfig(forestDocumentSchema, input.body);
    documentId = forestDocumentId(forest.name);
    normalized = input.body;
  }
  const body = JSON.stringify(normalized);
  const document: ConfigDocument = {
    documentId,
    kind: input.kind,
    version,
    body,
    sha256: createHash('sha256').update(body).digest('hex'),
    appliedBy,
    appliedAt: now,
    deleted: false,
  };
  return { key: keys.configDocument(documentId), value: codecs.configDocument.encode(document), document };
}

/** Publish documents to canopy.config. */
export async function publishConfigDocuments(
  producer: KafkaProducer,
  docs: Array<{ key: string; value: Buffer }>,
): Promise<void> {
  await producer.send(TOPICS.config.name, docs.map((d) => ({ key: d.key, value: d.value })));
}
