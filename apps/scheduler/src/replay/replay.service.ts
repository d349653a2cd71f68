import { randomUUID } from 'node:crypto';
import type { ConfigStore } from '@canopy/central-config';
import { TOPICS, adObjectsTopic } from '@canopy/contracts';
import { InputError, NotFoundError } from '@canopy/errors';
import type { KafkaClient, KafkaProducer } from '@canopy/kafka';
import type { Logger } from '@canopy/logger';
import { rulesFromConfig } from '@canopy/sync-rules';
import { transformBatch } from '@canopy/transform-batch';

export interface ReplayJob {
  id: string;
  forest: string;
  from: { time?: string; offset?: string };
  status: 'running' | 'completed' | 'failed';
  total: number;
  done: number;
  ops: number;
  results: number;
  configVersion: number;
  /** Writes per second the quota allows: the ETA of a replay is bounded by Graph, not Kafka. */
  quotaWritesPerSecond: number;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
}

/** `--from` as given by the admin: an ISO time, a relative time ('2h' ago) or an offset. */
export function parseReplayFrom(from: string, now = Date.now()): { time?: number; offset?: bigint } {
  if (/^\d+$/.test(from)) return { offset: BigInt(from) };
  const rel = /^(\d+)([smhd])$/.exec(from);
  if (rel) return { time: now - Number(rel[1]) * { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[rel[2] as 's']! };
  const t = Date.parse(from);
  if (Number.isNaN(t)) throw new InputError(`--from: "${from}" is neither a time (ISO 8601 or 2h/3d ago) nor an offset`);
  return { time: t };
}

/**
 * Replay re-drives the pipeline from the log: it reads the forest's connector space
 * (canopy.ad.objects.<forest>) from a time or offset, runs it through the current rules with the
 * transformer's own code, and produces ops. It touches neither AD nor the live transformer's
 * offsets. Safe by design: the writer resolves every target by anchor and skips what it already
 * applied, so a replay after an incident (even with Redis wiped) makes no twins.
 */
export class ReplayService {
  readonly #jobs = new Map<string, ReplayJob>();

  constructor(
    private readonly kafka: KafkaClient,
    private readonly producer: KafkaProducer,
    private readonly store: ConfigStore,
    private readonly log: Logger,
  ) {}

  get(id: string): ReplayJob {
    const job = this.#jobs.get(id);
    if (!job) throw new NotFoundError(`no replay ${id}`);
    return job;
  }

  async start(forest: string, from: string): Promise<ReplayJob> {
    const snap = this.store.snapshot();
    const doc = snap.forests.get(forest);
    if (!doc) throw new NotFoundError(`no configuration for forest ${forest}`);
    const rules = rulesFromConfig(forest, doc.rules, snap.global?.tenant);
    const topic = adObjectsTopic(forest);
    const parsed = parseReplayFrom(from);
    const marks = await this.kafka.admin().topicOffsets(topic);
    const start = new Map<number, bigint>();
    if (parsed.time !== undefined) {
      for (const p of await this.kafka.admin().offsetsAt(topic, parsed.time)) {
        const mark = marks.find((m) => m.partition === p.partition)!;
        start.set(p.partition, BigInt(p.offset) < 0n ? BigInt(mark.high) : BigInt(p.offset));
      }
    } else {
      for (const m of marks) {
        const o = parsed.offset! < BigInt(m.low) ? BigInt(m.low) : parsed.offset!;
        start.set(m.partition, o > BigInt(m.high) ? BigInt(m.high) : o);
      }
    }
    const total = marks.reduce((sum, m) => sum + Number(BigInt(m.high) - (start.get(m.partition) ?? BigInt(m.high))), 0);
    const quota = snap.global?.quota;
    const job: ReplayJob = {
      id: randomUUID(),
      forest,
      from: parsed.time !== undefined ? { time: new Date(parsed.time).toISOString() } : { offset: String(parsed.offset) },
      status: 'running',
      total,
      done: 0,
      ops: 0,
      results: 0,
      configVersion: doc.version,
      quotaWritesPerSecond: quota ? quota.writesPerWindow / (quota.window / 1000) : 20,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      error: null,
    };
    this.#jobs.set(job.id, job);
    this.log.info({ replay: job.id, forest, from: job.from, total }, 'replay started');
    void this.kafka
      .readRange(topic, start, async (messages) => {
        const out = transformBatch(messages, rules, doc.version);
        await this.producer.sendBatch([
          { topic: TOPICS.entraOps.name, messages: out.ops },
          { topic: TOPICS.syncResults.name, messages: out.results },
          { topic: TOPICS.deadLetters.name, messages: out.deadLetters },
        ]);
        job.done += messages.length;
        job.ops += out.ops.length;
        job.results += out.results.length;
      })
      .then(
        () => {
          job.status = 'completed';
          job.finishedAt = new Date().toISOString();
          this.log.info({ replay: job.id, ops: job.ops, done: job.done }, 'replay completed');
        },
        (err: unknown) => {
          job.status = 'failed';
          job.error = (err as Error).message;
          job.finishedAt = new Date().toISOString();
          this.log.error({ replay: job.id, err }, 'replay failed');
        },
      );
    return job;
  }
}
