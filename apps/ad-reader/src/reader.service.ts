import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ConfigStore, forestDocumentSchema, type ForestDocument } from '@canopy/central-config';
import { parseConfig } from '@canopy/config';
import { TOPICS, assertForestName, codecs, keys, type CommandAck, type ControlCommand } from '@canopy/contracts';
import { KafkaClient, ensureCanopyTopics, type KafkaConsumer, type KafkaProducer } from '@canopy/kafka';
import type { Logger } from '@canopy/logger';
import { createRedis, type RedisClient } from '@canopy/redis';
import { LOGGER, Readiness, ServiceMetrics } from '@canopy/service-runtime';
import { ForestReader, type AckStatus } from './forest-reader.js';
import { Lease } from './ha/lease.js';
import { ReaderMetrics } from './metrics.js';
import { loadReaderSettings, type ReaderSettings } from './settings.js';

const READER_COMMANDS = new Set(['FULL_SYNC', 'PAUSE', 'RESUME', 'PROVISION']);

/**
 * Wires the reader: settings, Kafka, Redis, the forest's configuration (canopy.config, hot
 * reloaded, or a local file), the lease that makes exactly one replica active, and the control
 * commands. The active replica runs a ForestReader; standbys only try to take the lease.
 */
@Injectable()
export class ReaderService implements OnApplicationBootstrap, OnModuleDestroy {
  #settings!: ReaderSettings;
  #kafka!: KafkaClient;
  #redis!: RedisClient;
  #config: ConfigStore | undefined;
  #localForest: (ForestDocument & { version?: number }) | undefined;
  #lease!: Lease;
  #metrics: ReaderMetrics;
  #active: ForestReader | undefined;
  #ackProducer: KafkaProducer | undefined;
  #control: KafkaConsumer | undefined;
  #leaseLoop: Promise<void> | undefined;
  #running = false;
  #wake: (() => void) | undefined;
  #transition: Promise<void> = Promise.resolve();
  #log: Logger;

  constructor(
    @Inject(LOGGER) log: Logger,
    @Inject(Readiness) private readonly readiness: Readiness,
    @Inject(ServiceMetrics) metrics: ServiceMetrics,
  ) {
    this.#log = log;
    this.#metrics = new ReaderMetrics(metrics);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.#settings = loadReaderSettings();
    const s = this.#settings;
    assertForestName(s.forest);
    this.#log = this.#log.child({ forest: s.forest, readerId: s.readerId });
    this.readiness.set('role', true, 'starting');
    this.#kafka = new KafkaClient({ ...s.kafka, clientId: `canopy-ad-reader-${s.forest}` }, this.#log);
    await ensureCanopyTopics(this.#kafka.admin(), { forests: [s.forest] });
    this.#redis = createRedis(s.redis, this.#log, `ad-reader-${s.forest}`);
    this.#lease = new Lease(this.#redis, `ad-reader:${s.forest}`, s.readerId, s.lease.ttl);
    const file = s.forestConfigFile ?? process.env.CANOPY_FOREST_CONFIG_FILE;
    if (file) {
      this.#localForest = { ...parseConfig(forestDocumentSchema, JSON.parse(readFileSync(file, 'utf8'))) };
      if (this.#localForest.name !== s.forest) throw new Error(`${file} describes forest ${this.#localForest.name}, not ${s.forest}`);
      this.#log.warn({ file }, 'using a local forest document instead of canopy.config (labs)');
    } else {
      this.#config = new ConfigStore(this.#kafka, this.#log, `ad-reader-${s.forest}-${randomUUID().slice(0, 8)}`);
      await this.#config.start();
      this.#config.onChange((_snap, changed) => {
        if (changed.includes(`forest/${s.forest}`)) {
          this.#log.info('forest document changed: reconfiguring');
          this.#active?.reconfigure();
        }
      });
    }
    this.#ackProducer = await this.#kafka.producer();
    await this.#startControl();
    this.#running = true;
    this.#leaseLoop = this.#runLease();
    this.#log.info({ leaseTtlMs: s.lease.ttl }, 'ad-reader started (standby until it holds the lease)');
  }

  async onModuleDestroy(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#leaseLoop?.catch(() => undefined);
    await this.#transition.catch(() => undefined);
    await this.#demote('shutting down', true);
    await this.#control?.stop();
    await this.#config?.stop();
    await this.#kafka?.close();
    this.#redis?.disconnect();
  }

  #forestDocument(): (ForestDocument & { version?: number }) | undefined {
    return this.#localForest ?? this.#config?.forest(this.#settings.forest);
  }

  async #runLease(): Promise<void> {
    const s = this.#settings.lease;
    while (this.#running) {
      try {
        if (this.#active) {
          const ok = await this.#lease.renew();
          if (!ok) await this.#demote('lease lost (expired or taken)');
        } else {
          const token = await this.#lease.tryAcquire();
          if (token !== null) await this.#promote(token);
          else this.readiness.set('role', true, 'standby');
        }
      } catch (err) {
        this.#log.warn({ err: (err as Error).message }, 'lease check failed (Redis)');
        // Cannot prove we still hold it: stop writing before it could expire.
        if (this.#active && !this.#lease.held) await this.#demote('lease not renewed in time');
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, this.#active ? s.renewInterval : s.acquireInterval);
        this.#wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  }

  async #promote(token: number): Promise<void> {
    this.#log.info({ fencingToken: token }, 'lease acquired: becoming the active reader');
    const reader = new ForestReader({
      settings: this.#settings,
      forestDocument: () => this.#forestDocument(),
      configVersion: () => this.#config?.version ?? 0,
      kafka: this.#kafka,
      log: this.#log,
      metrics: this.#metrics,
      readiness: this.readiness,
      fencingToken: token,
      ack: (id, status, message, details) => this.#ack(id, status, message, details),
      onFenced: () => {
        this.#lease.forget();
        void this.#demote('fenced by a newer reader');
      },
      stillLeader: () => this.#lease.held,
    });
    this.#active = reader;
    try {
      // Topics exist since boot; make sure again (a new cluster, or a topic deleted meanwhile).
      await ensureCanopyTopics(this.#kafka.admin(), { forests: [this.#settings.forest] });
      await reader.start();
    } catch (err) {
      this.#log.error({ err: (err as Error).message }, 'could not start as active reader; releasing the lease');
      this.#active = undefined;
      await reader.stop().catch(() => undefined);
      await this.#lease.release().catch(() => undefined);
      return;
    }
    this.#metrics.leaseHolder.set(1);
    this.readiness.set('role', true, `active (fencing token ${token})`);
  }

  #demote(reason: string, release = false): Promise<void> {
    const next = this.#transition.then(async () => {
      const reader = this.#active;
      if (!reader) return;
      this.#active = undefined;
      this.#metrics.leaseHolder.set(0);
      this.#log.warn({ reason }, 'no longer the active reader');
      await reader.stop().catch((err: unknown) => this.#log.warn({ err }, 'stopping the reader failed'));
      if (release) await this.#lease.release().catch(() => undefined);
      else this.#lease.forget();
      this.readiness.set('role', true, `standby (${reason})`);
    });
    this.#transition = next.catch(() => undefined);
    return next;
  }

  async #startControl(): Promise<void> {
    // Every replica follows the commands (own group, from now on); only the active one acts.
    this.#control = this.#kafka.consumer({ groupId: `canopy-ad-reader-control-${this.#settings.forest}-${randomUUID()}` });
    await this.#control.subscribe({ topics: [TOPICS.control.name], fromBeginning: false });
    await this.#control.run(async (batch, ctx) => {
      for (const m of batch.messages) {
        if (m.value) {
          try {
            await this.#onCommand(codecs.controlCommand.decode(m.value));
          } catch (err) {
            this.#log.error({ err: (err as Error).message, offset: m.offset }, 'ignoring a control command that cannot be handled');
          }
        }
        ctx.resolveOffset(m.offset);
      }
    });
  }

  async #onCommand(cmd: ControlCommand): Promise<void> {
    if (!READER_COMMANDS.has(cmd.command)) return;
    if (cmd.forest !== null && cmd.forest !== this.#settings.forest) return;
    const reader = this.#active;
    if (!reader) return;
    this.#log.info({ commandId: cmd.commandId, command: cmd.command, target: cmd.target, issuedBy: cmd.issuedBy }, 'control command');
    switch (cmd.command) {
      case 'FULL_SYNC':
        await this.#ack(cmd.commandId, 'ACCEPTED', 'full read queued');
        reader.requestFullSync(`FULL_SYNC command ${cmd.commandId} by ${cmd.issuedBy}`, cmd.commandId);
        return;
      case 'PAUSE':
        reader.pause();
        await this.#ack(cmd.commandId, 'COMPLETED', 'paused');
        return;
      case 'RESUME':
        reader.resume();
        await this.#ack(cmd.commandId, 'COMPLETED', 'resumed');
        return;
      case 'PROVISION':
        if (!cmd.target) {
          await this.#ack(cmd.commandId, 'REJECTED', 'PROVISION needs a target (DN or objectGUID)');
          return;
        }
        if (reader.paused) {
          await this.#ack(cmd.commandId, 'REJECTED', 'the reader is paused');
          return;
        }
        reader.provision(cmd.target, cmd.commandId);
        return;
    }
  }

  async #ack(commandId: string, status: AckStatus, message: string, details: Record<string, string> = {}): Promise<void> {
    const ack: CommandAck = {
      commandId,
      stage: 'ad-reader',
      instanceId: this.#settings.readerId,
      status,
      message,
      details: { forest: this.#settings.forest, ...details },
      at: new Date(),
    };
    await this.#ackProducer!.send(TOPICS.controlAcks.name, [{ key: keys.controlCommand(commandId), value: codecs.commandAck.encode(ack) }]);
  }
}
