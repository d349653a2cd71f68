import type { ConfigStore } from '@canopy/central-config';
import type { Logger } from '@canopy/logger';
import type { RedisClient } from '@canopy/redis';
import type { CommandBus } from '../commands/command-bus.js';

const lastFullKey = (forest: string) => `schedule:last-full-sync:${forest}`;

/**
 * Periodic full sync per forest (default weekly, forest.schedule.fullSyncInterval). The DirSync
 * poll fallback (schedule.pollInterval, default 2 minutes as in Cloud Sync) is carried out by the
 * reader itself from the same document, since it owns the connection.
 */
export class FullSyncSchedule {
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: ConfigStore,
    private readonly redis: RedisClient,
    private readonly commands: CommandBus,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  start(checkEveryMs = 60_000): void {
    this.#timer = setInterval(() => void this.tick().catch((err: unknown) => this.log.warn({ err }, 'schedule tick failed')), checkEveryMs);
    this.#timer.unref();
  }

  /** Send FULL_SYNC to every forest whose last full sync is older than its interval. */
  async tick(): Promise<string[]> {
    const due: string[] = [];
    for (const [name, forest] of this.store.snapshot().forests) {
      if (forest.paused) continue;
      const last = Number((await this.redis.get(lastFullKey(name))) ?? 0);
      if (!last) {
        // First sight of the forest: the reader's first start is a full read already.
        await this.redis.set(lastFullKey(name), String(this.now()));
        continue;
      }
      if (this.now() - last >= forest.schedule.fullSyncInterval) {
        await this.redis.set(lastFullKey(name), String(this.now()));
        await this.commands.send({ command: 'FULL_SYNC', forest: name, issuedBy: 'scheduler (periodic full sync)' });
        due.push(name);
      }
    }
    return due;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }
}
