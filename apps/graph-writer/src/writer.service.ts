import { startStageSpan } from '@canopy/tracing';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Redis } from 'ioredis';
import { ConfigStore, type GlobalDocument } from '@canopy/central-config';
import { TOPICS, codecs, type CommandAck, type ControlCommand, type EntraOperation } from '@canopy/contracts';
import { toCanopyError } from '@canopy/errors';
import { KafkaClient, type BatchContext, type IncomingMessage, type KafkaConsumer, type KafkaProducer, type MessageBatch } from '@canopy/kafka';
import type { Logger } from '@canopy/logger';
import { redisConnectionOptions } from '@canopy/redis';
import { LOGGER, Readiness, ServiceMetrics, setLag } from '@canopy/service-runtime';
import type { ApplyContext, ApplyOutcome, OpRun } from './apply/apply-context.js';
import { BatchExecutor } from './apply/batch-executor.js';
import { applyDelete, findDeleteTarget } from './apply/delete.js';
import { applyUpsert } from './apply/upsert.js';
import { DeleteGuard } from './deletes/delete-guard.js';
import { GraphClient } from './graph/graph-client.js';
import { GraphReader } from './graph/graph-reader.js';
import { TokenProvider } from './graph/token-provider.js';
import { ThrottleGate } from './rate/throttle-gate.js';
import { sleep } from './rate/sleep.js';
import { WriteQuota, windowLimits } from './rate/write-quota.js';
import { ResultPublisher, errorInfoOf, makeDeadLetter, makeResult } from './results/result-publisher.js';
import { AnchorIndex, ensureAnchorExtension } from './state/anchor-index.js';
import { AppliedState } from './state/applied-state.js';
import { loadWriterConfig, type WriterConfig } from './writer-config.js';

/**
 * Topic names, from @canopy/contracts. Several installations (or test suites) share a cluster
 * through the Kafka namespace (CANOPY_KAFKA__NAMESPACE), which @canopy/kafka applies to every
 * topic and consumer group.
 */
export function writerTopics(prefix = '') {
  return {
    ops: prefix + TOPICS.entraOps.name,
    results: prefix + TOPICS.syncResults.name,
    deadLetters: prefix + TOPICS.deadLetters.name,
    control: prefix + TOPICS.control.name,
    controlAcks: prefix + TOPICS.controlAcks.name,
    config: prefix + TOPICS.config.name,
    heldDeletes: prefix + TOPICS.heldDeletes.name,
  };
}

type Topics = ReturnType<typeof writerTopics>;

/** Graph hosts of Microsoft's national clouds: their tokens are for their own Graph. */
const NATIONAL_GRAPH = new Set(['graph.microsoft.us', 'dod-graph.microsoft.us', 'microsoftgraph.chinacloudapi.cn']);

/** The token scope for a Graph base URL (override with CANOPY_GRAPH__SCOPE). */
export function graphScope(baseUrl: string): string {
  const url = new URL(baseUrl);
  return `${NATIONAL_GRAPH.has(url.hostname) ? url.origin : 'https://graph.microsoft.com'}/.default`;
}

/**
 * The writer stage: consumes canopy.entra.ops (at-least-once: an op's offset is committed only
 * after its result is durable), applies each op to Graph within the shared quota, publishes one
 * terminal result per op, holds mass deletes for approval and answers APPROVE_DELETES /
 * REJECT_DELETES on canopy.control.
 */
@Injectable()
export class WriterService implements OnApplicationBootstrap, OnModuleDestroy {
  readonly instanceId = `graph-writer-${randomUUID().slice(0, 8)}`;
  #cfg: WriterConfig | undefined;
  #topics!: Topics;
  #kafka: KafkaClient | undefined;
  #redis: Redis | undefined;
  #store: ConfigStore | undefined;
  #configConsumer: KafkaConsumer | undefined;
  #ops: KafkaConsumer | undefined;
  #control: KafkaConsumer | undefined;
  #producer: KafkaProducer | undefined;
  #tokens: TokenProvider | undefined;
  #executor: BatchExecutor | undefined;
  #quota: WriteQuota | undefined;
  #ctx: ApplyContext | undefined;
  #results: ResultPublisher | undefined;
  #guard: DeleteGuard | undefined;
  #stopping = false;
  #started: Promise<void> | undefined;
  #global: GlobalDocument | undefined;
  #anchorProperty = '';

  readonly #m;

  constructor(
    @Inject(LOGGER) private readonly log: Logger,
    @Inject(Readiness) private readonly readiness: Readiness,
    @Inject(ServiceMetrics) metrics: ServiceMetrics,
  ) {
    this.#m = {
      writes: metrics.counter('writes_total', 'Graph writes issued (each request in a $batch counts one; retries included)'),
      requests: metrics.counter('requests_total', 'Graph requests answered, by method and status ($batch items one by one under their own method; the $batch envelopes as BATCH)', ['method', 'status']),
      throttled: metrics.counter('throttled_total', 'Graph 429 answers (each pauses every replica for its Retry-After)'),
      tokens: metrics.gauge('quota_tokens_available', 'Writes the shared sliding-window quota can still grant now (min over its windows)'),
      held: metrics.gauge('held_deletes', 'Deletes held by accidental-delete protection, awaiting approval'),
      lag: metrics.gauge('consumer_lag', 'Entra operations not yet consumed (this replica\'s partitions, as of its last batch)', ['topic']),
      results: metrics.counter('results_total', 'Op results published, by outcome', ['outcome']),
      latency: metrics.histogram('write_latency_seconds', 'Time from taking an op that writes to its durable result', [], [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]),
    };
    (this.#m.held as unknown as { collect: () => void }).collect = () => this.#m.held.set(this.#guard?.count() ?? 0);
    (this.#m.tokens as unknown as { collect: () => Promise<void> }).collect = () => this.#quotaAvailable();
    (this.#m.lag as unknown as { collect: () => void }).collect = () => setLag(this.#m.lag, this.#ops?.lag() ?? []);
  }

  onApplicationBootstrap(): void {
    this.readiness.set('writer', false, 'starting');
    this.#started = this.#start().catch((err: unknown) => {
      const e = toCanopyError(err);
      this.log.error({ err: e.toJSON() }, 'graph-writer could not start');
      this.readiness.set('writer', false, e.message);
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.#stopping = true;
    this.#executor?.stop();
    await this.#ops?.stop();
    await this.#control?.stop();
    await this.#configConsumer?.stop();
    await this.#guard?.stop();
    await this.#results?.flush().catch(() => undefined);
    this.#tokens?.stop();
    await this.#kafka?.close();
    this.#redis?.disconnect();
  }

  async #start(): Promise<void> {
    const cfg = (this.#cfg = loadWriterConfig());
    this.#topics = writerTopics();
    const kafka = (this.#kafka = new KafkaClient({ ...cfg.kafka, clientId: 'canopy-graph-writer' }, this.log));
    const redis = (this.#redis = new Redis(cfg.redis.url, { ...redisConnectionOptions(cfg.redis, this.log), maxRetriesPerRequest: 20, enableAutoPipelining: true }));
    redis.on('error', (err) => this.log.warn({ err: err.message }, 'redis connection problem'));
    await kafka.admin().ensureTopics(
      (Object.entries({
        ops: TOPICS.entraOps,
        results: TOPICS.syncResults,
        deadLetters: TOPICS.deadLetters,
        control: TOPICS.control,
        controlAcks: TOPICS.controlAcks,
        config: TOPICS.config,
        heldDeletes: TOPICS.heldDeletes,
      }) as Array<[keyof Topics, (typeof TOPICS)[keyof typeof TOPICS]]>).map(([k, spec]) => ({ name: this.#topics[k], partitions: spec.partitions, config: spec.config })),
    );

    // Central configuration (hot-reloaded).
    this.readiness.set('writer', false, 'waiting for the global configuration document');
    await this.#followConfig();
    while (!this.#store!.global()) {
      if (this.#stopping) return;
      await sleep(500);
    }
    this.#global = this.#store!.global()!;
    await this.#buildGraph();

    this.#producer = await kafka.producer();
    this.#results = new ResultPublisher(this.#producer, { results: this.#topics.results, deadLetters: this.#topics.deadLetters }, this.log, 5, (r) => this.#m.results.inc({ outcome: r.outcome }));
    this.#guard = new DeleteGuard(kafka, this.#producer, redis, this.#topics.heldDeletes, `${cfg.writer.redisPrefix}:${this.#tenantId()}`, this.log);
    await this.#guard.start();

    this.#control = kafka.consumer({ groupId: `${cfg.writer.groupId}-control`, sessionTimeoutMs: cfg.writer.sessionTimeout });
    await this.#control.subscribe({ topics: [this.#topics.control], fromBeginning: false });
    await this.#control.run((batch, ctx) => this.#onControl(batch, ctx));

    this.#ops = kafka.consumer({ groupId: cfg.writer.groupId, sessionTimeoutMs: cfg.writer.sessionTimeout });
    await this.#ops.subscribe({ topics: [this.#topics.ops], fromBeginning: true });
    await this.#ops.run((batch, ctx) => this.#onOps(batch, ctx));
    this.readiness.set('writer', true);
    this.log.info(
      { instanceId: this.instanceId, tenant: this.#tenantId(), graph: this.#global.graph.baseUrl, quota: this.#quota!.limits, anchorProperty: this.#anchorProperty },
      'graph-writer consuming',
    );
  }

  #tenantId(): string {
    return this.#cfg!.graph.tenantId ?? this.#global!.tenant.id;
  }

  #clientId(): string {
    return this.#cfg!.graph.clientId ?? this.#global!.graph.clientId;
  }

  /** At scrape time: what the shared quota can grant now (a slow or failing Redis keeps the last value). */
  async #quotaAvailable(): Promise<void> {
    const quota = this.#quota;
    if (!quota) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, 1_000, undefined)));
    try {
      const v = await Promise.race([quota.available(), timeout]);
      if (v !== undefined) this.#m.tokens.set(v);
    } catch {
      // keep the last value
    } finally {
      clearTimeout(timer);
    }
  }

  async #followConfig(): Promise<void> {
    const kafka = this.#kafka!;
    const store = (this.#store = new ConfigStore(kafka, this.log, this.instanceId));
    await kafka.readToEnd(this.#topics.config, (m) => void store.ingest(m.value, m.key?.toString()));
    this.#configConsumer = kafka.consumer({ groupId: `canopy-config-${this.instanceId}` });
    await this.#configConsumer.subscribe({ topics: [this.#topics.config], fromBeginning: false });
    await this.#configConsumer.run(async (batch, ctx) => {
      for (const m of batch.messages) {
        store.ingest(m.value, m.key?.toString());
        ctx.resolveOffset(m.offset);
      }
      const g = store.global();
      if (g && this.#global && g !== this.#global) this.#onGlobalChanged(g);
      else if (g && !this.#global) this.#global = g;
    });
  }

  #onGlobalChanged(g: GlobalDocument): void {
    const prev = this.#global!;
    this.#global = g;
    const cfg = this.#cfg!;
    this.#quota?.setParams(windowLimits(g.quota, cfg.writer.quotaSafety));
    if (prev.graph.baseUrl !== g.graph.baseUrl || prev.graph.authorityHost !== g.graph.authorityHost || prev.graph.clientId !== g.graph.clientId || prev.tenant.id !== g.tenant.id) {
      this.log.warn('the Graph endpoint, tenant or app changed in the global configuration: restart the writer to apply it');
    }
    this.log.info({ quota: g.quota, deletes: g.deletes, matching: g.matching }, 'global configuration reloaded');
  }

  async #buildGraph(): Promise<void> {
    const cfg = this.#cfg!;
    const g = this.#global!;
    const tenantId = this.#tenantId();
    const clientId = this.#clientId();
    const scope = cfg.graph.scope ?? graphScope(g.graph.baseUrl);
    this.#tokens = new TokenProvider(
      {
        authorityHost: g.graph.authorityHost,
        tenantId,
        clientId,
        clientSecret: cfg.graph.clientSecret,
        certificatePem: cfg.graph.certificate,
        privateKey: cfg.graph.privateKey,
        scope,
      },
      this.log,
    );
    const graph = new GraphClient(
      { baseUrl: g.graph.baseUrl, tokens: this.#tokens, requestTimeoutMs: cfg.graph.requestTimeout, onResponse: (method, status) => this.#m.requests.inc({ method, status: String(status) }) },
      this.log,
    );
    const redis = this.#redis!;
    const prefix = `${cfg.writer.redisPrefix}:${tenantId}`;
    const quotaPrefix = `${prefix}:${clientId}`;
    this.#quota = new WriteQuota(redis, quotaPrefix, windowLimits(g.quota, cfg.writer.quotaSafety));
    const gate = new ThrottleGate(redis, this.#quota.pauseKey);
    const reader = new GraphReader(graph, gate, this.log, () => this.#m.throttled.inc());
    this.#executor = new BatchExecutor(
      graph,
      this.#quota,
      gate,
      {
        lingerMs: cfg.writer.batchLinger,
        maxAttempts: 12,
        maxInFlight: 4,
        onWrites: (n) => this.#m.writes.inc(n),
        onItem: (method, status) => this.#m.requests.inc({ method, status: String(status) }),
        onThrottled: () => this.#m.throttled.inc(),
        onTokens: (t) => this.#m.tokens.set(t),
      },
      this.log,
    );
    // The anchor extension property (groups): registered once, retried until Graph answers.
    for (let attempt = 0; ; attempt++) {
      try {
        this.#anchorProperty = await ensureAnchorExtension(graph, reader, clientId, this.log);
        break;
      } catch (err) {
        const e = toCanopyError(err);
        this.readiness.set('writer', false, `cannot reach Graph: ${e.message}`);
        if (!e.retriable && attempt > 2) throw e;
        this.log.warn(
          { err: e.toJSON() },
          e.retriable ? 'Graph not reachable yet; retrying' : "Graph refused the writer's credentials (CANOPY_GRAPH__* or the app registration); retrying",
        );
        await sleep(Math.min(30_000, 1000 * 2 ** attempt));
      }
    }
    const anchors = new AnchorIndex(redis, prefix, reader, () => this.#anchorProperty, this.log);
    this.#ctx = {
      graph,
      reader,
      executor: this.#executor,
      anchors,
      applied: new AppliedState(redis, prefix),
      log: this.log,
      settings: () => ({
        softMatch: this.#global!.matching.softMatch,
        anchorProperty: this.#anchorProperty,
        replicationWaitMs: cfg.writer.replicationWait,
        memberRetries: cfg.writer.memberRetries,
        memberBackoffMs: cfg.writer.memberBackoff,
      }),
    };
  }

  // ---- ops ---------------------------------------------------------------------------------

  async #onOps(batch: MessageBatch, kctx: BatchContext): Promise<void> {
    const msgs = batch.messages;
    const done = new Array<boolean>(msgs.length).fill(false);
    let resolved = -1;
    const advance = () => {
      while (resolved + 1 < msgs.length && done[resolved + 1]) {
        resolved++;
        kctx.resolveOffset(msgs[resolved]!.offset);
      }
    };
    // Long batches: keep the group membership alive and commit the finished prefix as we go, so
    // a crash replays only the ops in flight.
    const beat = setInterval(() => {
      void kctx.heartbeat().catch(() => undefined);
      if (resolved >= 0) void kctx.commit().catch(() => undefined);
    }, 2_000);
    try {
      // Ops of one anchor in order; different anchors at once.
      const chains = new Map<string, number[]>();
      msgs.forEach((m, i) => {
        const k = m.key?.toString('utf8') ?? `#${i}`;
        const list = chains.get(k);
        if (list) list.push(i);
        else chains.set(k, [i]);
      });
      const queue = [...chains.values()];
      const workers = Array.from({ length: Math.min(this.#cfg!.writer.concurrency, queue.length) }, async () => {
        for (let chain = queue.shift(); chain; chain = queue.shift()) {
          for (const i of chain) {
            if (this.#stopping || !kctx.isRunning()) return;
            const ok = await this.#processMessage(msgs[i]!);
            if (!ok) break;
            done[i] = true;
            advance();
          }
        }
      });
      await Promise.all(workers);
    } finally {
      clearInterval(beat);
    }
    if (resolved >= 0) await kctx.commit().catch((err: unknown) => this.log.warn({ err }, 'offset commit failed; ops will be replayed'));
  }

  /** Apply one message until it has a durable terminal result. False: stopping, leave it for a replay. */
  async #processMessage(m: IncomingMessage): Promise<boolean> {
    let op: EntraOperation;
    try {
      if (!m.value) throw new Error('empty value');
      op = codecs.entraOperation.decode(m.value);
    } catch (err) {
      const reason = `undecodable message on ${m.topic}: ${(err as Error).message}`;
      this.log.error({ partition: m.partition, offset: m.offset }, reason);
      await this.#results!.deadLetter(makeDeadLetter(m, reason, toCanopyError(err, { type: 'Contracts.Decode' }).type, false, 1));
      return true;
    }
    // One span per op, continuing the object's trace from the reader and the transformer.
    const span = startStageSpan('graph-writer', 'write', m.headers, { 'canopy.action': op.action, 'canopy.target_type': op.targetType, 'canopy.forest': op.forest });
    try {
      const outcome = await this.#runWithRetries(op, m, (run) => this.#applyOp(run, m));
      if (outcome) span.span.setAttribute('canopy.outcome', outcome.outcome);
      span.end();
      return outcome !== undefined;
    } catch (err) {
      span.end(err);
      throw err;
    }
  }

  /** Retry retriable failures (fresh lookups each time) until maxRetryTime; then FAILED + DLQ. Publishes the result. */
  async #runWithRetries(op: EntraOperation, source: IncomingMessage, apply: (run: OpRun) => Promise<ApplyOutcome>): Promise<ApplyOutcome | undefined> {
    const run: OpRun = { op, meter: { writes: 0 }, fresh: false };
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await apply(run);
        await this.#results!.publish(makeResult(op, { ...out, writes: run.meter.writes }));
        if (run.meter.writes > 0) this.#m.latency.observe((Date.now() - started) / 1000);
        return out;
      } catch (err) {
        if (this.#stopping) return undefined;
        const e = toCanopyError(err, { retriable: true });
        if (e.type === 'Writer.Stopping') return undefined;
        const elapsed = Date.now() - started;
        if (e.retriable && elapsed < this.#cfg!.writer.maxRetryTime) {
          const delay = e.nextRetryDelayMs ?? Math.min(30_000, 500 * 2 ** Math.min(attempt, 6));
          this.log.warn({ anchor: op.sourceAnchor, opId: op.opId, attempt, delayMs: delay, err: e.toJSON() }, 'op failed, retrying with fresh lookups');
          // A waiting group the object could not join yet: the object itself is written, so the
          // retry needs no fresh lookups (it takes the unchanged path, which joins the groups).
          if (e.type !== 'Writer.WaitingGroup') run.fresh = true;
          await sleep(delay);
          if (this.#stopping) return undefined;
          continue;
        }
        const error = errorInfoOf(e);
        const failed: ApplyOutcome = { outcome: 'FAILED', entraId: null, reason: e.message, changedProperties: [], error };
        this.log.warn({ anchor: op.sourceAnchor, opId: op.opId, err: e.toJSON() }, 'op failed');
        try {
          await this.#results!.publish(makeResult(op, { ...failed, writes: run.meter.writes }), makeDeadLetter(source, e.message, e.type, e.retriable, attempt));
        } catch {
          return undefined;
        }
        return failed;
      }
    }
  }

  async #applyOp(run: OpRun, m: IncomingMessage): Promise<ApplyOutcome> {
    const ctx = this.#ctx!;
    const guard = this.#guard!;
    const { op } = run;
    if (op.action === 'DELETE') {
      if (op.targetType === 'CONTACT') return applyDelete(ctx, run);
      const target = await findDeleteTarget(ctx, run);
      if (!target.id) return applyDelete(ctx, run, target);
      const g = this.#global!;
      const decision = await guard.decide(op, { threshold: g.deletes.threshold, windowMs: g.deletes.window });
      if (decision.hold) {
        await guard.hold(op, m.value!);
        const held = guard.held(op.forest).length;
        return {
          outcome: 'HELD',
          entraId: target.id,
          reason: `held by accidental-delete protection: forest ${op.forest} has more deletes than the threshold (${g.deletes.threshold}) in this ${op.cycleId ? 'cycle' : 'window'}${(op.cycleDeletes ?? 0) > g.deletes.threshold ? ` (the reader counted ${op.cycleDeletes} in the cycle)` : ''}; ${held} delete(s) held. Approve or reject them (APPROVE_DELETES / REJECT_DELETES)`,
          changedProperties: [],
        };
      }
      return applyDelete(ctx, run, target);
    }
    if (guard.isHeld(op.forest, op.sourceAnchor)) {
      // The object is back in scope before its delete was approved: the delete no longer applies.
      const h = guard.held(op.forest).find((x) => x.anchor === op.sourceAnchor)!;
      await this.#results!.publish(
        makeResult(h.op, { outcome: 'NOOP', entraId: null, reason: 'held delete superseded: the object is back in scope, nothing deleted', changedProperties: [], writes: 0 }),
      );
      await guard.release(h);
    }
    return applyUpsert(ctx, run);
  }

  // ---- control commands --------------------------------------------------------------------

  async #onControl(batch: MessageBatch, kctx: BatchContext): Promise<void> {
    for (const m of batch.messages) {
      if (this.#stopping) return;
      let cmd: ControlCommand | undefined;
      try {
        cmd = m.value ? codecs.controlCommand.decode(m.value) : undefined;
      } catch (err) {
        this.log.warn({ err: (err as Error).message, offset: m.offset }, 'undecodable control command ignored');
      }
      if (cmd && (cmd.command === 'APPROVE_DELETES' || cmd.command === 'REJECT_DELETES')) {
        await this.#onDeleteDecision(cmd);
      }
      kctx.resolveOffset(m.offset);
      await kctx.commit().catch(() => undefined);
    }
  }

  async #ack(cmd: ControlCommand, status: CommandAck['status'], message: string, details: Record<string, string> = {}): Promise<void> {
    const ack: CommandAck = { commandId: cmd.commandId, stage: 'graph-writer', instanceId: this.instanceId, status, message, details, at: new Date() };
    await this.#producer!.send(this.#topics.controlAcks, [{ key: cmd.commandId, value: codecs.commandAck.encode(ack) }]);
  }

  async #onDeleteDecision(cmd: ControlCommand): Promise<void> {
    const guard = this.#guard!;
    const approve = cmd.command === 'APPROVE_DELETES';
    const only = cmd.args.anchors ? new Set(cmd.args.anchors.split(',').map((s) => s.trim()).filter(Boolean)) : undefined;
    const held = guard.held(cmd.forest).filter((h) => !only || only.has(h.anchor));
    this.log.info({ command: cmd.command, forest: cmd.forest, count: held.length, by: cmd.issuedBy }, 'delete decision received');
    await this.#ack(cmd, 'ACCEPTED', `${held.length} held delete(s) to ${approve ? 'execute' : 'drop'}`);
    let done = 0;
    let failed = 0;
    const queue = [...held];
    await Promise.all(
      Array.from({ length: Math.min(32, queue.length) }, async () => {
        for (let h = queue.shift(); h; h = queue.shift()) {
          if (this.#stopping) return;
          const source: IncomingMessage = { topic: this.#topics.heldDeletes, partition: 0, offset: '-1', key: Buffer.from(h.key), value: h.raw, headers: {}, timestamp: Date.now() };
          let out: ApplyOutcome | undefined;
          if (approve) {
            out = await this.#runWithRetries(h.op, source, (run) => applyDelete(this.#ctx!, run));
          } else {
            // NOOP, not SKIPPED: nothing was written and the object stays in Entra.
            out = { outcome: 'NOOP', entraId: null, reason: `delete rejected by ${cmd.issuedBy}: the object stays in Entra`, changedProperties: [] };
            await this.#results!.publish(makeResult(h.op, { ...out, writes: 0 }));
          }
          if (!out) return; // stopping: the command is replayed
          if (out.outcome === 'FAILED') failed++;
          else done++;
          await guard.release(h);
        }
      }),
    );
    const forests = new Set(held.map((h) => h.forest));
    if (cmd.forest) forests.add(cmd.forest);
    for (const f of forests) await guard.resetCount(f);
    await this.#ack(cmd, failed ? 'FAILED' : 'COMPLETED', `${approve ? 'deleted' : 'rejected'} ${done} held delete(s)${failed ? `, ${failed} failed` : ''}`, {
      processed: String(done),
      failed: String(failed),
    });
  }

  /** For tests: resolves when start-up finished (or failed). */
  started(): Promise<void> | undefined {
    return this.#started;
  }
}

