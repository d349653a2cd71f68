import type { ConfigStore } from '@canopy/central-config';
import type { SyncResult } from '@canopy/contracts';
import type { Logger } from '@canopy/logger';
import type { RedisClient } from '@canopy/redis';
import type { CommandBus } from '../commands/command-bus.js';
import { controlKeys } from '../status/status.service.js';

/**
 * Quarantine: a forest whose writer ops keep failing beyond `quarantine.failureRate` of its last
 * `quarantine.minOps` ops is paused (its reader stops emitting) and flagged until an admin clears it.
 */
export class QuarantineMonitor {
  readonly #windows = new Map<string, boolean[]>();

  constructor(
    private readonly store: ConfigStore,
    private readonly redis: RedisClient,
    private readonly commands: CommandBus,
    private readonly log: Logger,
  ) {}

  /** Feed one result; returns true when this result put the forest into quarantine. */
  async observe(result: SyncResult): Promise<boolean> {
    if (result.stage !== 'WRITER') return false;
    const settings = this.store.global()?.quarantine ?? { failureRate: 0.5, minOps: 100 };
    const window = this.#windows.get(result.forest) ?? [];
    window.push(result.outcome === 'FAILED');
    if (window.length > settings.minOps) window.shift();
    this.#windows.set(result.forest, window);
    if (window.length < settings.minOps) return false;
    const failed = window.filter(Boolean).length;
    const rate = failed / window.length;
    if (rate <= settings.failureRate) return false;
    const key = controlKeys.quarantine(result.forest);
    const reason = `${failed} of the last ${window.length} writes failed (${Math.round(rate * 100)}% > ${Math.round(settings.failureRate * 100)}%)`;
    const set = await this.redis.set(key, JSON.stringify({ since: new Date().toISOString(), reason }), 'NX');
    if (set !== 'OK') return false;
    this.log.error({ forest: result.forest, reason }, 'forest quarantined');
    await this.redis.set(controlKeys.paused(result.forest), new Date().toISOString());
    await this.commands.send({ command: 'QUARANTINE', forest: result.forest, args: { reason }, issuedBy: 'scheduler (quarantine)' });
    await this.commands.send({ command: 'PAUSE', forest: result.forest, args: { reason }, issuedBy: 'scheduler (quarantine)' });
    this.#windows.set(result.forest, []);
    return true;
  }
}
