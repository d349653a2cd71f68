import { CONSUMER_GROUPS, TOPICS, adObjectsTopic, codecs, type ReaderCheckpoint } from '@canopy/contracts';
import type { ConfigStore } from '@canopy/central-config';
import type { KafkaClient } from '@canopy/kafka';
import type { Logger } from '@canopy/logger';
import type { RedisClient } from '@canopy/redis';
import type { ProvisioningLog } from '../log/provisioning-log.js';

export interface ForestStatus {
  forest: string;
  configVersion: number | null;
  paused: boolean;
  quarantined: { since: string; reason: string } | null;
  reader: { active: string | null; standbys: string[]; cookieAgeSeconds: number | null; lastCheckpointAt: string | null };
  lag: { transformer: number | null };
  objectsInTenant: number;
  outcomes: Record<string, number>;
  /** Skipped results by reason (normalised: no DNs or ids), most frequent first. */
  skipped: Record<string, number>;
  writes: number;
  failures: number;
  heldDeletes: number;
}

export interface PipelineStatus {
  configVersion: number;
  forests: ForestStatus[];
  lag: { graphWriter: number | null };
  at: string;
}

export const controlKeys = {
  quarantine: (forest: string) => `control:quarantine:${forest}`,
  paused: (forest: string) => `control:paused:${forest}`,
  /** The active reader's lease (value "readerId|fencingToken"), held by the ad-reader. */
  readerLease: (forest: string) => `lease:ad-reader:${forest}`,
  /** Standby readers announce themselves here: `reader-presence:<forest>:<readerId>` with a TTL. */
  readerPresence: (forest: string) => `reader-presence:${forest}:*`,
};

/** Builds `canopy status`: per forest and per stage, from Kafka (lag, checkpoints), Redis and the log. */
export class StatusService {
  readonly #checkpoints = new Map<string, ReaderCheckpoint>();

  constructor(
    private readonly kafka: KafkaClient,
    private readonly redis: RedisClient,
    private readonly store: ConfigStore,
    private readonly provisioningLog: ProvisioningLog,
    private readonly log: Logger,
  ) {}

  async #refreshCheckpoints(): Promise<void> {
    await this.kafka.readToEnd(TOPICS.readerCheckpoints.name, (m) => {
      try {
        const cp = codecs.readerCheckpoint.decode(m.value);
        const prev = this.#checkpoints.get(cp.forest);
        if (!prev || prev.savedAt <= cp.savedAt) this.#checkpoints.set(cp.forest, cp);
      } catch {
        // an undecodable checkpoint is the reader's problem; status shows what it can
      }
    });
  }

  async #lag(group: string, topics: string[]): Promise<number | null> {
    try {
      const existing = new Set(await this.kafka.admin().listTopics());
      const present = topics.filter((t) => existing.has(t));
      if (!present.length) return null;
      const lag = await this.kafka.admin().groupLag(group, present);
      return Object.values(lag).reduce((a, b) => a + b, 0);
    } catch (err) {
      this.log.debug({ err, group }, 'lag unavailable');
      return null;
    }
  }

  async #readers(forest: string): Promise<{ active: string | null; standbys: string[] }> {
    const lease = await this.redis.get(controlKeys.readerLease(forest));
    const active = lease ? lease.slice(0, lease.lastIndexOf('|')) : null;
    const prefix = this.redis.options.keyPrefix ?? '';
    const keys = await this.redis.keys(`${prefix}${controlKeys.readerPresence(forest)}`);
    const standbys = keys
      .map((k) => k.slice(prefix.length + controlKeys.readerPresence(forest).length - 1))
      .filter((id) => id !== active)
      .sort();
    return { active, standbys };
  }

  async status(): Promise<PipelineStatus> {
    await this.#refreshCheckpoints().catch((err: unknown) => this.log.debug({ err }, 'checkpoints unavailable'));
    const snap = this.store.snapshot();
    const names = [...new Set([...snap.forests.keys(), ...(await this.provisioningLog.forests())])].sort();
    const forests: ForestStatus[] = [];
    for (const forest of names) {
      const doc = snap.forests.get(forest);
      const counters = await this.provisioningLog.counters(forest);
      const cp = this.#checkpoints.get(forest);
      const quarantine = await this.redis.get(controlKeys.quarantine(forest));
      const { writes = 0, ...outcomes } = counters;
      forests.push({
        forest,
        configVersion: doc?.version ?? null,
        paused: (doc?.paused ?? false) || Boolean(await this.redis.get(controlKeys.paused(forest))),
        quarantined: quarantine ? (JSON.parse(quarantine) as { since: string; reason: string }) : null,
        reader: {
          ...(await this.#readers(forest)),
          cookieAgeSeconds: cp ? Math.round((Date.now() - cp.savedAt.getTime()) / 1000) : null,
          lastCheckpointAt: cp ? cp.savedAt.toISOString() : null,
        },
        lag: { transformer: await this.#lag(CONSUMER_GROUPS.transformer, [adObjectsTopic(forest)]) },
        objectsInTenant: await this.provisioningLog.inTenant(forest),
        outcomes,
        skipped: await this.provisioningLog.skipReasons(forest),
        writes,
        failures: outcomes.FAILED ?? 0,
        heldDeletes: await this.provisioningLog.held(forest),
      });
    }
    return {
      configVersion: snap.version,
      forests,
      lag: { graphWriter: await this.#lag(CONSUMER_GROUPS.graphWriter, [TOPICS.entraOps.name]) },
      at: new Date().toISOString(),
    };
  }
}
