import { randomUUID } from 'node:crypto';
import { TOPICS, codecs, guidToString, type Outcome, type SyncResult } from '@canopy/contracts';
import type { KafkaClient, KafkaConsumer } from '@canopy/kafka';
import type { Logger } from '@canopy/logger';
import type { RedisClient } from '@canopy/redis';

/** What the log keeps per object: its latest outcome. */
export interface LoggedOutcome {
  forest: string;
  objectGuid: string | null;
  sourceAnchor: string | null;
  dn: string | null;
  targetType: string | null;
  stage: string;
  outcome: Outcome;
  entraId: string | null;
  reason: string | null;
  error: SyncResult['error'];
  writes: number;
  changedProperties: string[];
  configVersion: number;
  opId: string | null;
  at: string;
}

const IN_TENANT: ReadonlySet<Outcome> = new Set(['CREATED', 'UPDATED', 'NOOP', 'RESTORED']);

/** Redis keys of the provisioning log (all under the client's key prefix). */
export const logKeys = {
  generation: 'log:generation',
  object: (forest: string, id: string) => `log:obj:${forest}:${id}`,
  byDn: (forest: string, dn: string) => `log:dn:${forest}:${dn.toLowerCase()}`,
  byAnchor: (anchor: string) => `log:anchor:${anchor}`,
  counters: (forest: string) => `log:count:${forest}`,
  inTenant: (forest: string) => `log:intenant:${forest}`,
  held: (forest: string) => `log:held:${forest}`,
  failures: (forest: string) => `log:failures:${forest}`,
  skips: (forest: string) => `log:skips:${forest}`,
  forests: 'log:forests',
};

/** Status shows this many skip reasons per forest at most; the rest are summed as "other reasons". */
export const MAX_SKIP_REASONS = 50;

/**
 * A skip reason without what is particular to one object (DNs, GUIDs, numbers), so that reasons
 * can be counted: "not synchronized: computer objects are not synchronized (...)" stays whole,
 * "ou=x,dc=corp excluded" becomes "<dn> excluded".
 */
export function skipReasonKind(reason: string | null): string {
  if (!reason) return '(no reason given)';
  return reason
    // A DN's DC components hold no spaces, so a DN ending in DC=... ends where its value does.
    .replace(/\b(?:(?:CN|OU|O|L)=(?:\\.|[^,;()])*|DC=[\w.-]*)(?:,\s*(?:(?:CN|OU|O|L)=(?:\\.|[^,;()])*|DC=[\w.-]*))*/gi, '<dn>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<id>')
    .replace(/\d+/g, 'N')
    .slice(0, 160);
}

export type ResultListener = (result: SyncResult) => void;

/**
 * The provisioning log: canopy.sync.results kept queryable in Redis (latest outcome per object,
 * counters per forest and outcome, recent failures, objects in the tenant, held deletes).
 * Rebuildable: when Redis has lost it (no generation key), a new generation starts a fresh
 * consumer group that reads the results topic from the beginning.
 */
export class ProvisioningLog {
  #consumer: KafkaConsumer | undefined;
  readonly #listeners = new Set<ResultListener>();

  constructor(
    private readonly kafka: KafkaClient,
    private readonly redis: RedisClient,
    private readonly log: Logger,
  ) {}

  onResult(listener: ResultListener): void {
    this.#listeners.add(listener);
  }

  async start(): Promise<void> {
    let generation = await this.redis.get(logKeys.generation);
    if (!generation) {
      generation = randomUUID();
      await this.redis.set(logKeys.generation, generation);
      this.log.info({ generation }, 'provisioning log: (re)building from canopy.sync.results');
    }
    this.#consumer = this.kafka.consumer({ groupId: `canopy-provisioning-log-${generation}` });
    await this.#consumer.subscribe({ topics: [TOPICS.syncResults.name], fromBeginning: true });
    await this.#consumer.run(async (batch, ctx) => {
      const pipeline = this.redis.pipeline();
      const decoded: SyncResult[] = [];
      for (const m of batch.messages) {
        try {
          const result = codecs.syncResult.decode(m.value);
          this.#record(pipeline, result);
          decoded.push(result);
        } catch (err) {
          this.log.warn({ err, offset: m.offset, partition: batch.partition }, 'provisioning log: undecodable result skipped');
        }
      }
      await pipeline.exec();
      for (const m of batch.messages) ctx.resolveOffset(m.offset);
      for (const r of decoded) for (const l of this.#listeners) l(r);
    });
  }

  #record(p: ReturnType<RedisClient['pipeline']>, r: SyncResult): void {
    const guid = r.objectGuid ? guidToString(r.objectGuid) : null;
    const id = guid ?? r.sourceAnchor ?? r.resultId;
    const entry: LoggedOutcome = {
      forest: r.forest,
      objectGuid: guid,
      sourceAnchor: r.sourceAnchor,
      dn: r.dn,
      targetType: r.targetType,
      stage: r.stage,
      outcome: r.outcome,
      entraId: r.entraId,
      reason: r.reason,
      error: r.error,
      writes: r.writes,
      changedProperties: r.changedProperties,
      configVersion: r.configVersion,
      opId: r.opId,
      at: r.at.toISOString(),
    };
    p.sadd(logKeys.forests, r.forest);
    p.set(logKeys.object(r.forest, id), JSON.stringify(entry));
    if (r.dn) p.set(logKeys.byDn(r.forest, r.dn), id);
    if (r.sourceAnchor) p.set(logKeys.byAnchor(r.sourceAnchor), `${r.forest}:${id}`);
    p.hincrby(logKeys.counters(r.forest), r.outcome, 1);
    p.hincrby(logKeys.counters(r.forest), 'writes', r.writes);
    const member = r.sourceAnchor ?? id;
    if (IN_TENANT.has(r.outcome)) p.sadd(logKeys.inTenant(r.forest), member);
    else if (r.outcome === 'DELETED' || (r.outcome === 'SKIPPED' && r.stage === 'WRITER')) p.srem(logKeys.inTenant(r.forest), member);
    if (r.outcome === 'HELD') p.sadd(logKeys.held(r.forest), member);
    else p.srem(logKeys.held(r.forest), member);
    if (r.outcome === 'SKIPPED') p.hincrby(logKeys.skips(r.forest), skipReasonKind(r.reason), 1);
    if (r.outcome === 'FAILED') {
      p.lpush(logKeys.failures(r.forest), JSON.stringify(entry));
      p.ltrim(logKeys.failures(r.forest), 0, 199);
    }
  }

  async latest(forest: string, id: string): Promise<LoggedOutcome | null> {
    const raw = await this.redis.get(logKeys.object(forest, id));
    return raw ? (JSON.parse(raw) as LoggedOutcome) : null;
  }

  async findByDn(forest: string, dn: string): Promise<string | null> {
    return this.redis.get(logKeys.byDn(forest, dn));
  }

  async forests(): Promise<string[]> {
    return (await this.redis.smembers(logKeys.forests)).sort();
  }

  async counters(forest: string): Promise<Record<string, number>> {
    const raw = await this.redis.hgetall(logKeys.counters(forest));
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
  }

  /** Skipped results by reason (normalised), most frequent first; the tail past MAX_SKIP_REASONS is summed. */
  async skipReasons(forest: string): Promise<Record<string, number>> {
    const raw = await this.redis.hgetall(logKeys.skips(forest));
    const sorted = Object.entries(raw)
      .map(([k, v]) => [k, Number(v)] as const)
      .sort((a, b) => b[1] - a[1]);
    const out: Record<string, number> = Object.fromEntries(sorted.slice(0, MAX_SKIP_REASONS));
    const rest = sorted.slice(MAX_SKIP_REASONS).reduce((n, [, v]) => n + v, 0);
    if (rest) out['other reasons'] = rest;
    return out;
  }

  async inTenant(forest: string): Promise<number> {
    return this.redis.scard(logKeys.inTenant(forest));
  }

  async held(forest: string): Promise<number> {
    return this.redis.scard(logKeys.held(forest));
  }

  /** The objects whose latest outcome is HELD (a delete waiting for approval). */
  async heldObjects(forest: string, limit = 1000): Promise<LoggedOutcome[]> {
    const anchors = (await this.redis.smembers(logKeys.held(forest))).slice(0, limit);
    const out: LoggedOutcome[] = [];
    for (const anchor of anchors) {
      const ref = await this.redis.get(logKeys.byAnchor(anchor));
      const entry = ref?.startsWith(`${forest}:`) ? await this.latest(forest, ref.slice(forest.length + 1)) : null;
      if (entry) out.push(entry);
    }
    return out;
  }

  async recentFailures(forest: string, limit = 20): Promise<LoggedOutcome[]> {
    return (await this.redis.lrange(logKeys.failures(forest), 0, limit - 1)).map((s) => JSON.parse(s) as LoggedOutcome);
  }

  async stop(): Promise<void> {
    await this.#consumer?.stop();
  }
}
