import { randomUUID } from 'node:crypto';
import type { ConfigStore } from '@canopy/central-config';
import type { Logger } from '@canopy/logger';
import type { RedisClient } from '@canopy/redis';
import type { ReplayJob } from '../replay/replay.service.js';

/** The key whose disappearance means Redis lost its data (restarted empty, flushed, failed over). */
export const REDIS_EPOCH_KEY = 'redis-epoch';

/**
 * Redis holds only what can be rebuilt, but the writer keeps there which groups wait for members
 * not in Entra yet (and its applied-state cache). When Redis comes back empty, nothing would ever
 * add those members. The scheduler keeps an epoch key in Redis; when it vanishes, it re-drives
 * every forest from its log (a replay from offset 0: the writer skips what is already right and
 * re-registers what still waits), and retries a replay that fails until one completes.
 * A loss while no scheduler runs is not seen: `canopy replay` rebuilds then.
 */
export class RedisLossMonitor {
  #epoch: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  /** Replays started after a loss that have not completed yet, by forest. */
  readonly #replays = new Map<string, string>();

  constructor(
    private readonly redis: RedisClient,
    private readonly store: ConfigStore,
    private readonly replay: { start(forest: string, from: string): Promise<ReplayJob>; get(id: string): ReplayJob },
    private readonly log: Logger,
    private readonly intervalMs = 5_000,
  ) {}

  start(): void {
    void this.tick().catch((err: unknown) => this.log.debug({ err }, 'redis epoch check failed'));
    this.#timer = setInterval(() => void this.tick().catch((err: unknown) => this.log.debug({ err }, 'redis epoch check failed')), this.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  /** One check; returns the forests whose replay it started (after a loss, or again after a failed one). */
  async tick(): Promise<string[]> {
    if (this.#busy) return [];
    this.#busy = true;
    try {
      const started: string[] = [];
      const current = await this.redis.get(REDIS_EPOCH_KEY);
      if (current) {
        this.#epoch = current; // ours, or another scheduler's after it saw the same loss
      } else {
        const mine = randomUUID();
        if ((await this.redis.set(REDIS_EPOCH_KEY, mine, 'NX')) === 'OK') {
          const known = this.#epoch !== undefined;
          this.#epoch = mine;
          if (known) {
            const forests = [...this.store.snapshot().forests.keys()];
            this.log.warn({ forests }, 'Redis lost its data (its epoch key is gone): replaying every forest from its log to rebuild what the writer kept there');
            for (const f of forests) this.#replays.set(f, '');
          }
        }
      }
      for (const [forest, id] of this.#replays) {
        const job = id ? this.#job(id) : undefined;
        if (job?.status === 'completed') {
          this.#replays.delete(forest);
          continue;
        }
        if (job?.status === 'running') continue;
        if (job) this.log.warn({ forest, error: job.error }, 'replay after the Redis loss failed; starting it again');
        const next = await this.replay.start(forest, '0');
        this.#replays.set(forest, next.id);
        started.push(forest);
      }
      return started;
    } finally {
      this.#busy = false;
    }
  }

  #job(id: string): ReplayJob | undefined {
    try {
      return this.replay.get(id);
    } catch {
      return undefined;
    }
  }
}
